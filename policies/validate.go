package policies

import (
	"path"
	"regexp"
	"slices"
	"strings"
)

// maxItemID bounds step, field, choice and note ids: a button carries
// "choice:<id>" or "edit:<id>" in Telegram's 64-byte callback data.
const maxItemID = 40

// Languages Ombud speaks. A policy offers a subset of them.
var supportedLanguages = []string{"sv", "da", "en"}

var (
	policyIDPattern   = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	itemIDPattern     = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	casePrefixPattern = regexp.MustCompile(`^[A-Z]{2,6}$`)
	currencyPattern   = regexp.MustCompile(`^[A-Z]{3}$`)
	langCodePattern   = regexp.MustCompile(`^[a-z]{2}$`)
	emailPattern      = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	webPattern        = regexp.MustCompile(`^https?://[^\s/]+\.[^\s]+$`)
)

var (
	stepKinds    = []string{KindFirstContact, KindComplaints, KindADR, KindGuidance, KindSupervisor, KindCourt}
	fieldTypes   = []string{FieldText, FieldLongText, FieldDate, FieldChoice, FieldYesNo, FieldEmail, FieldPhone, FieldAmount, FieldReference, FieldAttachments}
	anchors      = []string{FromReceived, FromFirstComplaint, FromDecision}
	bindsParties = []Party{BindsIssuer, BindsConsumer}
	noteKinds    = []string{"privacy", "info", "warning"}
)

// validate checks one decoded policy and records every problem, not just
// the first, so a policy owner can fix a file in one pass.
func (c *checker) validate(p *Policy) {
	root := keyPath{}
	if p.ID == "" {
		c.errorf(root.key("id"), "required")
	} else if !policyIDPattern.MatchString(p.ID) {
		c.errorf(root.key("id"), "%q must be lowercase letters and digits joined by hyphens, such as amex-se", p.ID)
	} else if want := baseName(c.file.Name); want != p.ID {
		c.errorf(root.key("id"), "%q must match the file name %q", p.ID, want)
	}

	c.languages(root.key("languages"), p.Languages, true)
	langs := p.Languages
	// The company list is shown before an issuer is chosen, in any of
	// Ombud's languages, so the name may be given in each of them.
	c.text(root.key("name"), p.Name, langs, true, supportedLanguages...)
	c.text(root.key("agent_name"), p.AgentName, langs, false)
	if p.Retention != nil {
		c.period(root.key("retention"), *p.Retention)
	}

	switch p.Country {
	case "":
		c.errorf(root.key("country"), "required (SE or DK)")
	case Sweden, Denmark:
	default:
		c.errorf(root.key("country"), "unknown country %q (want SE or DK)", p.Country)
	}
	if p.TimeZone == "" {
		c.errorf(root.key("time_zone"), "required (Europe/Stockholm or Europe/Copenhagen)")
	} else if _, err := NewClock(Sweden, p.TimeZone, CalendarOptions{}); err != nil {
		c.errorf(root.key("time_zone"), "unknown time zone %q", p.TimeZone)
	}
	if p.Calendar.FridayAfterAscension && p.Country != Denmark {
		c.errorf(root.key("calendar").key("friday_after_ascension"), "only Danish issuers have the bank closing day after Ascension")
	}
	if !casePrefixPattern.MatchString(p.CasePrefix) {
		c.errorf(root.key("case_prefix"), "%q must be 2 to 6 capital letters, such as AXSE", p.CasePrefix)
	}
	if p.ReviewEvery != nil {
		c.period(root.key("review_every"), *p.ReviewEvery)
	}
	if p.Reviewed != "" {
		if _, err := ParseDate(p.Reviewed); err != nil {
			c.errorf(root.key("reviewed"), "%v", err)
		}
	}

	c.steps(p, langs)
	c.fields(p, langs)
	c.notes(p, langs)
}

func (c *checker) languages(at keyPath, langs []string, offered bool) {
	if len(langs) == 0 {
		if offered {
			c.errorf(at, "list at least one language (sv, da, en)")
		}
		return
	}
	seen := map[string]bool{}
	for i, l := range langs {
		switch {
		case seen[l]:
			c.errorf(at.index(i), "language %q is listed twice", l)
		case offered && !slices.Contains(supportedLanguages, l):
			c.errorf(at.index(i), "unsupported language %q (Ombud speaks sv, da and en)", l)
		case !offered && !langCodePattern.MatchString(l):
			c.errorf(at.index(i), "%q is not a two-letter language code", l)
		}
		seen[l] = true
	}
}

// text checks that t has a non-empty entry for every offered language.
// Optional texts may be absent altogether, but not half translated. Texts
// in languages the policy does not offer get a warning, unless allowed.
func (c *checker) text(at keyPath, t Text, langs []string, required bool, allowed ...string) {
	if len(t) == 0 {
		if required {
			c.errorf(at, "required, in %s", listLangs(langs))
		}
		return
	}
	for _, l := range langs {
		if t[l] == "" {
			c.errorf(at, "missing %q translation", l)
		}
	}
	for l := range t {
		if !slices.Contains(langs, l) && !slices.Contains(allowed, l) {
			c.warnf(at.key(l), "text in %q, which the policy does not offer", l)
		}
	}
}

func (c *checker) steps(p *Policy, langs []string) {
	at := keyPath{"steps"}
	if len(p.Steps) == 0 {
		c.errorf(at, "list the escalation ladder: at least the issuer's complaints function")
		return
	}
	index := map[string]int{}
	hasComplaints := false
	for i, s := range p.Steps {
		c.step(at.index(i), s, index, i, langs)
		hasComplaints = hasComplaints || s.Kind == KindComplaints
	}
	if !hasComplaints {
		c.errorf(at, "no step of kind %q: Ombud files complaints with the issuer's complaints function", KindComplaints)
	}
	// References are checked once every id is known, so a step may name one
	// defined further down; naming itself is a loop.
	for i, s := range p.Steps {
		c.applies(p, at.index(i).key("applies"), s, index)
	}
}

// step checks one step of the ladder, but for when it applies.
func (c *checker) step(sp keyPath, s Step, index map[string]int, i int, langs []string) {
	c.itemID(sp, s.ID, index, i)
	if !slices.Contains(stepKinds, s.Kind) {
		c.errorf(sp.key("kind"), "unknown kind %q (want one of %v)", s.Kind, stepKinds)
	}
	c.text(sp.key("who"), s.Who, langs, true)
	c.text(sp.key("who_in_sentence"), s.WhoInSentence, langs, false)
	c.text(sp.key("description"), s.Description, langs, true)
	if s.Country != "" && s.Country != Sweden && s.Country != Denmark {
		c.errorf(sp.key("country"), "unknown country %q (want SE or DK)", s.Country)
	}
	c.source(sp.key("source"), s.Source)
	c.contact(sp.key("contact"), s.Contact, langs)
	c.conditions(sp.key("conditions"), s.Conditions, langs)
	deadlineIDs := map[string]int{}
	for j, d := range s.Deadlines {
		c.deadline(sp.key("deadlines").index(j), d, deadlineIDs, j, langs)
	}
}

// applies checks when a step applies, and that what it names exists.
func (c *checker) applies(p *Policy, ap keyPath, s Step, index map[string]int) {
	a := s.Applies
	if !a.Always && a.AfterStep == "" {
		c.errorf(ap, "say when the step applies: always: true, or after_step")
	}
	if a.AfterStep != "" {
		if _, ok := index[a.AfterStep]; !ok {
			c.errorf(ap.key("after_step"), "step %q is not defined", a.AfterStep)
		} else if a.AfterStep == s.ID {
			c.errorf(ap.key("after_step"), "a step cannot follow itself")
		}
	}
	if (a.AfterRejection || a.NoAnswerWithin != nil || a.NoAnswerBy != "" || a.AfterNoAgreement) && a.AfterStep == "" {
		c.errorf(ap, "after_rejection, after_no_agreement, no_answer_within and no_answer_by need after_step")
	}
	if a.NoAnswerWithin != nil {
		c.period(ap.key("no_answer_within"), *a.NoAnswerWithin)
	}
	if a.NoAnswerWithin != nil && a.NoAnswerBy != "" {
		c.errorf(ap, "say no_answer_within (this body's own period) or no_answer_by (the previous step's deadline), not both")
	}
	if a.NoAnswerBy != "" && a.AfterStep != "" {
		if prev, ok := p.Step(a.AfterStep); ok && !slices.ContainsFunc(prev.Deadlines, func(d Deadline) bool { return d.ID == a.NoAnswerBy }) {
			c.errorf(ap.key("no_answer_by"), "step %q has no deadline %q", a.AfterStep, a.NoAnswerBy)
		}
	}
	c.source(ap.key("source"), a.Source)
}

// source checks a fact's source: where it is from, and when it was checked.
func (c *checker) source(at keyPath, s *Source) {
	if s == nil {
		return
	}
	if strings.TrimSpace(s.Ref) == "" {
		c.errorf(at.key("ref"), "say where the fact comes from: a web address or a statute")
	}
	if _, err := ParseDate(s.Checked); err != nil {
		c.errorf(at.key("checked"), "when was it checked? %v", err)
	}
	if s.Confirm != "" {
		c.add(Confirm, at, "%s", s.Confirm)
	}
}

func (c *checker) contact(at keyPath, ct Contact, langs []string) {
	if ct.Email != "" && !emailPattern.MatchString(ct.Email) {
		c.errorf(at.key("email"), "%q is not an e-mail address", ct.Email)
	}
	if ct.Web != "" && !webPattern.MatchString(ct.Web) {
		c.errorf(at.key("web"), "%q must be a web address starting with https:// or http://", ct.Web)
	}
	c.text(at.key("hours"), ct.Hours, langs, false)
}

func (c *checker) conditions(at keyPath, cond Conditions, langs []string) {
	c.money(at.key("fee"), cond.Fee)
	c.money(at.key("min_amount"), cond.MinAmount)
	c.languages(at.key("languages"), cond.Languages, false)
	c.text(at.key("form"), cond.Form, langs, false)
	c.text(at.key("note"), cond.Note, langs, false)
	c.source(at.key("source"), cond.Source)
}

func (c *checker) money(at keyPath, m *Money) {
	if m == nil {
		return
	}
	if m.Amount <= 0 {
		c.errorf(at.key("amount"), "must be greater than 0, got %d", m.Amount)
	}
	if !currencyPattern.MatchString(m.Currency) {
		c.errorf(at.key("currency"), "%q is not a currency code such as SEK or DKK", m.Currency)
	}
	c.source(at.key("source"), m.Source)
}

func (c *checker) deadline(at keyPath, d Deadline, ids map[string]int, i int, langs []string) {
	c.itemID(at, d.ID, ids, i)
	c.text(at.key("label"), d.Label, langs, true)
	if !slices.Contains(bindsParties, d.Binds) {
		c.errorf(at.key("binds"), "%q: want issuer or consumer", d.Binds)
	}
	if !slices.Contains(anchors, d.From) {
		c.errorf(at.key("from"), "%q: want one of %v", d.From, anchors)
	}
	c.period(at.key("period"), d.Period)
	if x := d.Extension; x != nil {
		c.period(at.key("extension").key("period"), x.Period)
		c.text(at.key("extension").key("label"), x.Label, langs, true)
		baseUnit, base := d.Period.Unit()
		extUnit, ext := x.Period.Unit()
		if baseUnit == extUnit && ext <= base {
			c.errorf(at.key("extension").key("period"), "extension %s is not longer than the deadline %s", x.Period, d.Period)
		}
	}
	c.source(at.key("source"), d.Source)
}

// period checks that exactly one unit is set and that it is positive.
func (c *checker) period(at keyPath, p Period) {
	units := []struct {
		name string
		n    int
	}{{"working_days", p.WorkingDays}, {"calendar_days", p.CalendarDays}, {"hours", p.Hours}, {"years", p.Years}}
	for _, u := range units {
		if u.n < 0 {
			c.errorf(at.key(u.name), "must be greater than 0, got %d", u.n)
		}
	}
	switch p.units() {
	case 0:
		c.errorf(at, "set one of working_days, calendar_days, hours or years, greater than 0")
	case 1:
	default:
		c.errorf(at, "set only one of working_days, calendar_days, hours or years")
	}
}

func (c *checker) fields(p *Policy, langs []string) {
	at := keyPath{"fields"}
	if len(p.Fields) == 0 {
		c.errorf(at, "list the complaint details the issuer asks for")
		return
	}
	index := map[string]int{}
	roles := fieldRoles{registers: map[RegisterRole]bool{}}
	for i, f := range p.Fields {
		fp := at.index(i)
		c.fieldRole(fp, f, &roles)
		c.itemID(fp, f.ID, index, i)
		if !slices.Contains(fieldTypes, f.Type) {
			c.errorf(fp.key("type"), "unknown type %q (want one of %v)", f.Type, fieldTypes)
		}
		c.text(fp.key("prompt"), f.Prompt, langs, true)
		c.text(fp.key("help"), f.Help, langs, true)
		c.fieldChoices(fp, f, langs)
		c.fieldLimits(fp, f)
		if f.AskIf != nil {
			c.askIf(p, fp.key("ask_if"), *f.AskIf, index, i)
		}
	}
}

// fieldRoles are the roles only one field of a policy may have.
type fieldRoles struct {
	claims    int
	registers map[RegisterRole]bool
}

// fieldRole checks what a field is for beyond its question: masked on the
// desk, the consumer's claim, or a register category.
func (c *checker) fieldRole(fp keyPath, f Field, roles *fieldRoles) {
	if f.Mask && f.Type != FieldReference && f.Type != FieldText {
		c.errorf(fp.key("mask"), "only a text or reference answer can be masked")
	}
	if f.Claim {
		roles.claims++
		switch {
		case f.Type != FieldAmount:
			c.errorf(fp.key("claim"), "only an amount field can be the claim")
		case roles.claims > 1:
			c.errorf(fp.key("claim"), "another field is already the claim")
		}
	}
	if f.Register != "" {
		switch {
		case f.Register != RegisterProduct && f.Register != RegisterCause:
			c.errorf(fp.key("register"), "%q: want product or cause", f.Register)
		case f.Type != FieldChoice:
			c.errorf(fp.key("register"), "only a choice field can be a register category")
		case roles.registers[f.Register]:
			c.errorf(fp.key("register"), "another field is already the %s category", f.Register)
		}
		roles.registers[f.Register] = true
	}
}

// fieldChoices checks a choice field's choices, and that no other field
// has any.
func (c *checker) fieldChoices(fp keyPath, f Field, langs []string) {
	if f.Type != FieldChoice {
		if len(f.Choices) > 0 {
			c.errorf(fp.key("choices"), "only fields of type choice have choices")
		}
		return
	}
	if len(f.Choices) < 2 {
		c.errorf(fp.key("choices"), "a choice needs at least two choices")
	}
	choiceIDs := map[string]int{}
	for j, ch := range f.Choices {
		c.itemID(fp.key("choices").index(j), ch.ID, choiceIDs, j)
		c.text(fp.key("choices").index(j).key("label"), ch.Label, langs, true)
	}
}

// fieldLimits checks what a field's answer must look like.
func (c *checker) fieldLimits(fp keyPath, f Field) {
	if f.Pattern != "" {
		if f.Type != FieldReference {
			c.errorf(fp.key("pattern"), "only fields of type reference have a pattern")
		} else if _, err := regexp.Compile(f.Pattern); err != nil {
			c.errorf(fp.key("pattern"), "invalid pattern: %v", err)
		}
	}
	if f.Currency != "" {
		if f.Type != FieldAmount {
			c.errorf(fp.key("currency"), "only fields of type amount have a currency")
		} else if !currencyPattern.MatchString(f.Currency) {
			c.errorf(fp.key("currency"), "%q is not a currency code such as SEK or DKK", f.Currency)
		}
	}
	if f.MinLength < 0 {
		c.errorf(fp.key("min_length"), "must not be negative")
	}
	if f.MaxLength < 0 {
		c.errorf(fp.key("max_length"), "must not be negative")
	}
	if f.MaxLength > 0 && f.MinLength > f.MaxLength {
		c.errorf(fp.key("min_length"), "min_length %d is above max_length %d", f.MinLength, f.MaxLength)
	}
}

// askIf checks that a condition names an earlier field and one of its answers.
func (c *checker) askIf(p *Policy, at keyPath, a AskIf, index map[string]int, i int) {
	j, ok := index[a.Field]
	if !ok || j >= i {
		if _, later := p.Field(a.Field); later {
			c.errorf(at.key("field"), "field %q comes later; ask_if must name an earlier field", a.Field)
		} else {
			c.errorf(at.key("field"), "field %q is not defined", a.Field)
		}
		return
	}
	target := p.Fields[j]
	switch target.Type {
	case FieldYesNo:
		if a.Equals != "yes" && a.Equals != "no" {
			c.errorf(at.key("equals"), "%q: field %q is yes/no, want yes or no", a.Equals, a.Field)
		}
	case FieldChoice:
		if !slices.ContainsFunc(target.Choices, func(ch Choice) bool { return ch.ID == a.Equals }) {
			c.errorf(at.key("equals"), "%q is not a choice of field %q", a.Equals, a.Field)
		}
	default:
		c.errorf(at.key("field"), "field %q is %s; ask_if needs a choice or yes/no field", a.Field, target.Type)
	}
}

func (c *checker) notes(p *Policy, langs []string) {
	index := map[string]int{}
	for i, n := range p.Notes {
		np := keyPath{"notes"}.index(i)
		c.itemID(np, n.ID, index, i)
		if !slices.Contains(noteKinds, n.Kind) {
			c.errorf(np.key("kind"), "%q: want one of %v", n.Kind, noteKinds)
		}
		c.text(np.key("text"), n.Text, langs, true)
		c.source(np.key("source"), n.Source)
	}
}

// itemID checks an id of a step, field, deadline, choice or note, and records
// its index for references.
func (c *checker) itemID(at keyPath, id string, index map[string]int, i int) {
	switch {
	case id == "":
		c.errorf(at.key("id"), "required")
		return
	case !itemIDPattern.MatchString(id):
		c.errorf(at.key("id"), "%q must be lowercase letters, digits and underscores", id)
	case len(id) > maxItemID:
		c.errorf(at.key("id"), "%q is longer than %d characters: ids travel in Telegram buttons, which carry 64 bytes", id, maxItemID)
	}
	if j, dup := index[id]; dup {
		c.errorf(at.key("id"), "duplicate id %q (first used at index %d)", id, j)
		return
	}
	index[id] = i
}

func listLangs(langs []string) string {
	if len(langs) == 0 {
		return "every offered language"
	}
	return "each of " + strings.Join(langs, ", ")
}

// baseName is a file name without folder and extension: the policy id it
// must carry.
func baseName(file string) string {
	base := path.Base(strings.ReplaceAll(file, "\\", "/"))
	return strings.TrimSuffix(strings.TrimSuffix(base, ".yaml"), ".yml")
}
