package dialog

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"ombud/locales"
	"ombud/policies"
)

// submit files the complaint: a case number, the dates that bind the
// issuer, the receipt for the consumer and the new case for the agents.
func (t *turn) submit() error {
	pol := t.pol
	received := pol.Clock().LocalDate(t.now)
	if t.seq == nil {
		return fmt.Errorf("dialog: no case-number allocator")
	}
	n, err := t.seq(pol.CasePrefix, received.Year)
	if err != nil {
		return fmt.Errorf("dialog: allocate case number for %s: %w", pol.ID, err)
	}
	first := t.s.FirstComplaint
	if first.IsZero() || first.After(received) {
		first = received
	}
	c := &Complaint{
		ID:             fmt.Sprintf("%s-%d-%05d", pol.CasePrefix, received.Year, n),
		Issuer:         pol.ID,
		PolicyVersion:  pol.Version,
		Channel:        t.s.Channel,
		Chat:           t.s.Chat,
		Lang:           t.s.Lang,
		Status:         CaseSubmitted,
		ReceivedAt:     t.now.UTC(),
		ReceivedDate:   received,
		Contacted:      t.s.Contacted,
		FirstComplaint: first,
		PriorAnswer:    t.s.PriorAnswer,
		Deadlines:      filedDeadlines(pol, pol.Plan(t.now, first), t.s.Lang),
		History:        []Event{{At: t.now.UTC(), Kind: EventSubmitted, By: "consumer"}},
	}
	for _, f := range pol.Fields {
		a, ok := t.s.Answers[f.ID]
		if !t.applicable(f) || !ok || a.Skipped {
			continue
		}
		display := t.answerText(f, a)
		if f.Mask {
			display = maskTail(display)
		}
		c.Answers = append(c.Answers, FiledAnswer{
			Field: f.ID, Question: f.Prompt.In(t.s.Lang), Value: a.Value, Display: display, Attachments: a.Attachments,
		})
		switch f.Register {
		case policies.RegisterProduct:
			c.Product = a.Value
		case policies.RegisterCause:
			c.Cause = a.Value
		}
	}
	t.c, t.caseChanged = c, true
	t.s.Cases = append(t.s.filed(), c.ID)
	t.s.Case = c.ID
	t.refreshTimers()

	t.s.State = StateSubmitted
	t.receipt()
	t.s.Answers, t.s.Back, t.s.Sources, t.s.Field = nil, nil, nil, ""
	t.noticeAgents(NoticeCaseOpened, "agent.case_new", map[string]any{
		"Case": c.ID, "Issuer": pol.Name.In(t.e.deskLang(c.Issuer)), "Lang": c.Lang, "Received": c.ReceivedDate.String(),
		"Summary": caseSummary(c),
	})
	for _, a := range c.Answers {
		for _, f := range a.Attachments {
			t.tellAgentsFile(f)
		}
	}
	return nil
}

// maskTail hides the last four letters or digits of an answer the desk
// need not see whole: "19850412-1234" shows as "19850412-****".
func maskTail(s string) string {
	r := []rune(s)
	for i, n := len(r)-1, 0; i >= 0 && n < 4; i-- {
		if unicode.IsLetter(r[i]) || unicode.IsDigit(r[i]) {
			r[i], n = '*', n+1
		}
	}
	return string(r)
}

// filedStep is the step a complaint is filed with: the issuer's first
// complaints function.
func filedStep(pol *policies.Policy) (policies.Step, int) {
	for i, s := range pol.Steps {
		if s.Kind == policies.KindComplaints {
			return s, i
		}
	}
	return policies.Step{}, -1
}

// filedDeadlines are the issuer's dates for a complaint filed with the
// complaints function. The last one, or one that can be extended, is the
// decision; earlier ones ask only for an answer, such as an acknowledgement.
func filedDeadlines(pol *policies.Policy, plan policies.Plan, lang string) []CaseDeadline {
	step, idx := filedStep(pol)
	if idx < 0 {
		return nil
	}
	var out []CaseDeadline
	planned := plan.Steps[idx].Deadlines
	for i, d := range planned {
		if d.Binds != policies.BindsIssuer || !d.Dated {
			continue
		}
		cd := CaseDeadline{
			Step: step.ID, ID: d.ID, Kind: DeadlineAnswer, Label: d.Label.In(lang),
			Due: d.Due.Date, Ends: d.Due.Ends, ByHour: d.Due.ByHour,
		}
		cd.Unit, _ = d.Period.Unit()
		if d.Extended != nil {
			ext, ends := d.Extended.Date, d.Extended.Ends
			cd.Extended, cd.ExtendedEnds = &ext, &ends
			cd.ExtendedUnit, _ = d.Extension.Period.Unit()
		}
		if d.Extension != nil || i == len(planned)-1 {
			cd.Kind = DeadlineDecision
		}
		out = append(out, cd)
	}
	return out
}

// activeEnds is when a deadline passes: the extended date once the case is
// extended.
func (c *Complaint) activeEnds(d CaseDeadline) (policies.Date, time.Time) {
	if c.ExtendedReason != "" && d.Extended != nil && d.ExtendedEnds != nil {
		return *d.Extended, *d.ExtendedEnds
	}
	return d.Due, d.Ends
}

// open reports whether the issuer still owes the consumer an answer.
func (c *Complaint) open() bool { return c.Status.Open() }

// refreshTimers recomputes the case's timers from its deadlines: a reminder
// some working days before each unmet deadline and an alarm when it passes.
func (t *turn) refreshTimers() {
	t.setTimers = true
	t.timers = nil
	c := t.c
	if c == nil || !c.open() || t.pol == nil {
		return
	}
	clock := t.pol.Clock()
	days := t.e.ReminderWorkingDays
	if days <= 0 {
		days = 2
	}
	pending := false
	for _, d := range c.Deadlines {
		if d.Met || d.Breached {
			continue
		}
		pending = true
		due, ends := c.activeEnds(d)
		if ends.After(t.now) {
			t.timers = append(t.timers, Timer{Case: c.ID, Kind: TimerDue, Deadline: d.ID, At: ends.UTC()})
		}
		remind := clock.NextWorkingDay(due)
		for i := 0; i < days; i++ {
			remind = previousWorkingDay(clock, remind)
		}
		at := remind.Time(clock.Location()).Add(8 * time.Hour)
		if at.After(t.now) && at.Before(ends) {
			t.timers = append(t.timers, Timer{Case: c.ID, Kind: TimerReminder, Deadline: d.ID, At: at.UTC()})
		}
	}
	if pending {
		// The days left change at midnight even when nothing else does.
		midnight := clock.LocalDate(t.now).AddDays(1).Time(clock.Location())
		t.timers = append(t.timers, Timer{Case: c.ID, Kind: TimerRefresh, Deadline: "days_left", At: midnight.UTC()})
	}
}

func previousWorkingDay(c *policies.Clock, d policies.Date) policies.Date {
	d = d.AddDays(-1)
	for !c.IsWorkingDay(d) {
		d = d.AddDays(-1)
	}
	return d
}

// receipt tells the consumer the complaint is filed, with the case number
// and the dates that bind the issuer.
func (t *turn) receipt() {
	c := t.c
	var b strings.Builder
	b.WriteString(t.text("case.filed", map[string]any{
		"Issuer": t.issuerName(), "Case": c.ID, "Date": t.day(c.ReceivedDate),
	}))
	for _, d := range c.Deadlines {
		b.WriteString("\n" + t.deadlineLine(c, t.pol, d))
		if d.Extended != nil {
			b.WriteString("\n" + t.text("case.filed_extension", map[string]any{"Date": t.day(*d.Extended)}))
		}
	}
	b.WriteString("\n\n" + t.text("case.filed_next", map[string]any{"Issuer": t.issuerName()}))
	b.WriteString("\n" + t.text("case.filed_version", map[string]any{"Reviewed": t.pol.Reviewed}))
	t.say("case.filed", b.String())
}

func (t *turn) day(d policies.Date) string {
	return t.pr().DayISO(d.Time(time.UTC))
}

// deadlineLine is one issuer date of case c, with the time of day for
// deadlines counted in hours.
func (t *turn) deadlineLine(c *Complaint, pol *policies.Policy, d CaseDeadline) string {
	due, ends := c.activeEnds(d)
	date := t.day(due)
	if d.ByHour && pol != nil {
		date += " " + ends.In(pol.Clock().Location()).Format("15:04")
	}
	return t.text("case.deadline", map[string]any{"Label": deadlineLabel(pol, d, t.lang()), "Date": date})
}

// deadlineLabel names a case's deadline in lang, from the policy in force;
// the label stored at filing serves when the policy no longer has it.
func deadlineLabel(pol *policies.Policy, d CaseDeadline, lang string) string {
	if pol != nil {
		if s, ok := pol.Step(d.Step); ok {
			for _, pd := range s.Deadlines {
				if pd.ID == d.ID {
					return pd.Label.In(lang)
				}
			}
		}
	}
	return d.Label
}

// caseSummary is the case as agents first see it: each question and answer.
func caseSummary(c *Complaint) string {
	var b strings.Builder
	for _, a := range c.Answers {
		fmt.Fprintf(&b, "• %s\n  %s\n", a.Question, a.Display)
	}
	for _, d := range c.Deadlines {
		fmt.Fprintf(&b, "• %s: %s\n", d.ID, d.Due)
	}
	return strings.TrimRight(b.String(), "\n")
}

// caseMessage takes a consumer's message after filing: it goes to the case
// and its agents. Once an agent owns the case the bot stays quiet.
func (t *turn) caseMessage() error {
	if t.c == nil || t.c.Erased { // the case's data is gone: start afresh
		t.fileNotKept()
		return t.greet("")
	}
	if t.in.Data != "" { // a button of this state that means nothing here
		t.reprompt(&invalid{key: "validate.choice"})
		return nil
	}
	if n := utf8.RuneCountInString(cleanText(t.in.Text)); n > defaultLongTextMax {
		t.sayKey("validate.too_long", map[string]any{"Max": defaultLongTextMax})
		return nil
	}
	if t.c.Status == CaseClosed && t.c.Rating > 0 && t.c.RatingComment == "" && cleanText(t.in.Text) != "" && t.in.Attachment == nil {
		t.c.RatingComment, t.caseChanged = cleanText(t.in.Text), true
		t.sayKey("case.rating_comment_saved", nil)
		return nil
	}
	text := cleanText(t.in.Text)
	if t.in.Attachment != nil && t.in.Attachment.Size > MaxAttachmentBytes {
		t.sayKey("validate.file_too_large", map[string]any{"MB": MaxAttachmentBytes >> 20})
		return nil
	}
	if t.in.Attachment != nil {
		name := t.in.Attachment.Name
		if name == "" {
			name = t.in.Attachment.FileID
		}
		text = strings.TrimSpace(text + " [" + name + "]")
	}
	if text == "" {
		t.sayKey("case.empty_message", map[string]any{"Case": t.c.ID})
		return nil
	}
	t.c.History = append(t.c.History, Event{At: t.now.UTC(), Kind: EventConsumer, By: "consumer", Text: text})
	t.caseChanged = true
	t.tellAgents("agent.consumer_message", map[string]any{"Case": t.c.ID, "Text": text})
	if t.in.Attachment != nil {
		t.tellAgentsFile(*t.in.Attachment)
	}
	switch {
	case t.c.Status == CaseClosed:
		t.sayKey("case.closed_message", map[string]any{"Case": t.c.ID})
	case !t.c.HumanOwned:
		t.sayKey("case.message_added", map[string]any{"Case": t.c.ID})
	}
	return nil
}

// rate takes a rating button, "CASE:N": a closed case is rated once.
func (t *turn) rate(data string) {
	id, n, _ := strings.Cut(data, ":")
	v, err := strconv.Atoi(n)
	c := t.c
	if c == nil || c.ID != id {
		c = t.loadCase(id)
	}
	switch {
	case c == nil || c.Erased || err != nil || v < 1 || v > 5:
		t.oldButton()
		return
	case c.Status != CaseClosed || c.Rating > 0:
		t.sayKey("case.rating_closed", map[string]any{"Case": c.ID})
		t.promptDraft()
		return
	}
	c.Rating = v
	t.c, t.caseChanged = c, true
	if t.s.State == StateSubmitted && t.s.Case == c.ID {
		t.sayKey("case.rated", nil) // invites the comment the next message gives
		return
	}
	t.sayKey("case.rated_thanks", nil)
	t.promptDraft()
}

// loadCase reads one of the consumer's other cases; nil if it is unknown.
func (t *turn) loadCase(id string) *Complaint {
	if t.load == nil || id == "" || !contains(t.s.filed(), id) {
		return nil
	}
	c, err := t.load(id)
	if err != nil || c == nil {
		return nil
	}
	return cloneComplaint(c)
}

// followCase turns the conversation to another of the consumer's open
// cases: their next messages go to it.
func (t *turn) followCase(id string) error {
	c := t.loadCase(id)
	if c == nil || c.Erased || t.s.State != StateSubmitted {
		t.oldButton()
		return nil
	}
	t.c, t.s.Case, t.s.Issuer = c, c.ID, c.Issuer
	t.pol, _ = t.e.Policies().Get(c.Issuer)
	t.sayKey("case.following", map[string]any{"Case": c.ID})
	t.status()
	return nil
}

// status shows where the conversation stands: the complaint being
// written, if any, and every case it filed, the followed one in full.
func (t *turn) status() {
	following := t.s.State == StateSubmitted && t.c != nil
	others := t.otherCases(following)
	switch {
	case isDraft(t.s.State):
		if t.pol == nil {
			t.sayKey("intake.status_draft_no_issuer", nil)
		} else {
			t.sayKey("intake.status_draft", map[string]any{"Issuer": t.issuerName()})
		}
		if len(others) > 0 {
			t.say("case.status_filed", t.caseList("case.status_filed", others))
		}
		t.prompt()
	case !following && len(others) == 0:
		t.sayKey("intake.status_none", nil)
	case !following:
		t.say("case.status_filed", t.caseList("case.status_filed", others))
		t.sayKey("intake.new_hint", nil)
	default:
		t.say("case.status", t.caseStatus(t.c, t.pol))
		if len(others) == 0 {
			return
		}
		var rows [][]Button
		for _, c := range others {
			if c.open() && !c.Erased {
				rows = append(rows, []Button{{Label: t.text("button.follow_case", map[string]any{"Case": c.ID}), Data: prefixCase + c.ID}})
			}
		}
		t.say("case.status_others", t.caseList("case.status_others", others), rows...)
	}
}

// otherCases are the conversation's filed cases, oldest first, but for the
// one it follows when following is set.
func (t *turn) otherCases(following bool) []*Complaint {
	var out []*Complaint
	for _, id := range t.s.filed() {
		switch {
		case t.c != nil && id == t.c.ID && following:
		case t.c != nil && id == t.c.ID:
			out = append(out, t.c)
		default:
			if c := t.loadCase(id); c != nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// caseList is a heading and one line per case: number, issuer and status.
func (t *turn) caseList(heading string, cases []*Complaint) string {
	var b strings.Builder
	b.WriteString(t.text(heading, nil))
	for _, c := range cases {
		name := c.Issuer
		if pol, ok := t.e.Policies().Get(c.Issuer); ok {
			name = pol.Name.In(t.lang())
		}
		b.WriteString("\n" + t.text("case.status_line", map[string]any{
			"Case": c.ID, "Issuer": name, "Status": t.text("status."+string(c.Status), nil)}))
	}
	return b.String()
}

// caseStatus is one case in full: its status, and the dates in force with
// the working days left.
func (t *turn) caseStatus(c *Complaint, pol *policies.Policy) string {
	var b strings.Builder
	name := c.Issuer
	if pol != nil {
		name = pol.Name.In(t.lang())
	}
	b.WriteString(t.text("case.status", map[string]any{
		"Case": c.ID, "Issuer": name, "Status": t.text("status."+string(c.Status), nil), "Date": t.day(c.ReceivedDate),
	}))
	if c.open() && pol != nil {
		for _, d := range c.Deadlines {
			if d.Met {
				continue
			}
			b.WriteString("\n" + t.deadlineLine(c, pol, d) + " (" + leftText(t.pr(), *c, d, pol, t.now) + ")")
		}
	}
	if c.Decision != nil {
		b.WriteString("\n" + t.text("case.status_decision."+string(c.Decision.Outcome), nil))
	}
	return b.String()
}

// nextSteps is the rest of the ladder after the complaints function, with
// the dates that bind the consumer: where to go when the answer is no or
// never comes. The case's own dates, as they stand, replace the planned
// ones, and limits already passed are said to have passed.
func (t *turn) nextSteps() string {
	if t.pol == nil || t.c == nil {
		return ""
	}
	_, idx := filedStep(t.pol)
	plan := t.pol.Plan(t.c.ReceivedAt, t.c.FirstComplaint)
	v := ladderView{today: t.today(), inForce: map[string]policies.Date{}, claim: claimOf(t.c, t.pol)}
	for _, d := range t.c.Deadlines {
		v.inForce[d.ID], _ = t.c.activeEnds(d)
	}
	var b strings.Builder
	b.WriteString(t.text("case.next_steps", nil))
	n := 0
	for _, s := range plan.Steps[idx+1:] {
		n++
		b.WriteString("\n\n" + strings.TrimRight(renderStep(t.pr(), t.pol, n, s, v), "\n"))
	}
	return b.String()
}

// leftText says how long a deadline has left, in its own unit, in the
// printer's language.
func leftText(pr *locales.Printer, c Complaint, d CaseDeadline, pol *policies.Policy, now time.Time) string {
	n, unit := c.Left(d, pol, now)
	switch {
	case n < 0:
		return pr.Text("case.deadline_missed", nil)
	case n == 0:
		return pr.Text("deadline.due_today", nil)
	case unit == policies.UnitHours:
		return pr.Plural("deadline.hours_left", n, nil)
	case unit == policies.UnitCalendarDays:
		return pr.Plural("deadline.days_left", n, nil)
	}
	return pr.Plural("deadline.working_days_left", n, nil)
}

// deskPrinter words messages for the desk of issuer.
func (e *Engine) deskPrinter(issuer string) *locales.Printer {
	return e.Catalog.Printer(e.deskLang(issuer))
}

// claimOf is what the consumer of c claims, from the policy's claim field,
// in whole units; nil if they did not say.
func claimOf(c *Complaint, pol *policies.Policy) *policies.Money {
	for _, f := range pol.Fields {
		if !f.Claim {
			continue
		}
		for _, a := range c.Answers {
			if a.Field != f.ID {
				continue
			}
			// An amount is stored as "1250.00 SEK".
			num, currency, ok := strings.Cut(a.Value, " ")
			whole, _, _ := strings.Cut(num, ".")
			if n, err := strconv.Atoi(whole); ok && err == nil {
				return &policies.Money{Amount: n, Currency: currency}
			}
		}
	}
	return nil
}
