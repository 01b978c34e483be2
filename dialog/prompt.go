package dialog

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"ombud/policies"
)

func (t *turn) askPrivacy() {
	t.say("intake.greeting", t.text("intake.greeting", nil)+"\n\n"+t.text("intake.privacy", nil),
		[]Button{t.button("button.continue", dataContinue)}, t.languageButtons())
}

func (t *turn) askIssuer() {
	if t.s.Issuer != "" {
		return // chosen through a link: the next question follows at once
	}
	var rows [][]Button
	for _, p := range t.e.Policies().Offered() {
		rows = append(rows, []Button{{Label: p.Name.In(t.lang()), Data: prefixIssuer + p.ID}})
	}
	t.sayKey("intake.issuer", nil, rows...)
}

func (t *turn) askContacted() {
	t.sayKey("intake.contacted", map[string]any{"Issuer": t.issuerName()}, t.yesNoButtons())
}

func (t *turn) askFirstComplaint() {
	t.sayKey("intake.first_complaint", map[string]any{"Issuer": t.issuerName()},
		[]Button{t.button("button.today", dataToday)})
}

func (t *turn) askPriorAnswer() {
	t.sayKey("intake.prior_answer", map[string]any{"Issuer": t.issuerName()},
		[]Button{t.button("prior.none", prefixPrior+string(PriorNone))},
		[]Button{t.button("prior.rejected", prefixPrior+string(PriorRejected))},
		[]Button{t.button("prior.partial", prefixPrior+string(PriorPartial))},
		[]Button{t.button("prior.other", prefixPrior+string(PriorOther))})
}

func (t *turn) askCancelled() { t.sayKey("intake.cancelled", nil) }

func (t *turn) askParked() {
	t.sayKey("intake.parked", map[string]any{"Issuer": t.issuerName()})
}

func (t *turn) askWelcomeBack() { t.sayKey("intake.welcome_back", nil) }

func (t *turn) issuerName() string {
	if t.pol == nil {
		return ""
	}
	return t.pol.Name.In(t.lang())
}

func (t *turn) yesNoButtons() []Button {
	return []Button{t.button("answer.yes", dataYes), t.button("answer.no", dataNo)}
}

// languageButtons offers the languages the issuer offers, or all three
// before an issuer is chosen.
func (t *turn) languageButtons() []Button {
	langs := t.e.Catalog.Languages()
	if t.pol != nil {
		langs = t.pol.Languages
	}
	var row []Button
	for _, l := range langs {
		if l != t.s.Lang {
			row = append(row, Button{Label: t.text("lang."+l, nil), Data: prefixLang + l})
		}
	}
	return row
}

// promptFirstStep gives the issuer's first step, customer service, and lets
// the consumer file at once anyway.
func (t *turn) promptFirstStep() {
	var b strings.Builder
	b.WriteString(t.text("intake.first_step", map[string]any{"Issuer": t.issuerName()}))
	plan := t.pol.Plan(t.now, policies.Date{})
	for _, s := range plan.Steps {
		if s.Kind == policies.KindFirstContact {
			b.WriteString("\n\n" + strings.TrimRight(renderStep(t.pr(), t.pol, 1, s, ladderView{today: t.today()}), "\n"))
			break
		}
	}
	t.say("intake.first_step", b.String(),
		[]Button{t.button("button.file_now", dataFile)},
		[]Button{t.button("button.contact_first", dataLater)})
}

// promptField asks the current policy field, with its help text and the
// buttons its type offers.
func (t *turn) promptField() {
	f, ok := t.pol.Field(t.s.Field)
	if !ok {
		// The policy changed under the draft: its questions start again,
		// keeping the answers that still fit.
		t.s.Field = t.firstField()
		if f, ok = t.pol.Field(t.s.Field); !ok {
			return
		}
	}
	n, total := t.fieldNumber(f.ID)
	var b strings.Builder
	b.WriteString(t.text("intake.question", map[string]any{"N": n, "Total": total, "Prompt": f.Prompt.In(t.s.Lang)}))
	if help := f.Help.In(t.s.Lang); help != "" {
		b.WriteString("\n" + help)
	}
	if a, ok := t.s.Answers[f.ID]; ok && !a.Skipped {
		b.WriteString("\n" + t.text("intake.current_answer", map[string]any{"Answer": t.answerText(f, a)}))
	}
	var rows [][]Button
	switch f.Type {
	case policies.FieldChoice:
		for _, ch := range f.Choices {
			rows = append(rows, []Button{{Label: ch.Label.In(t.s.Lang), Data: prefixChoice + ch.ID}})
		}
	case policies.FieldYesNo:
		rows = append(rows, t.yesNoButtons())
	case policies.FieldAttachments:
		b.WriteString("\n" + t.text("intake.attachments_hint", nil))
		rows = append(rows, []Button{t.button("button.done", dataDone)})
	}
	if !f.Required && f.Type != policies.FieldAttachments {
		rows = append(rows, []Button{t.button("button.skip", dataSkip)})
	}
	if a, ok := t.s.Answers[f.ID]; ok && !a.Skipped && f.Type != policies.FieldAttachments {
		rows = append(rows, []Button{t.button("button.keep_answer", dataKeepAnswer)})
	}
	t.say("intake.question", b.String(), rows...)
}

// fieldNumber is the field's place among the fields asked, and how many
// may be asked: a follow-up question counts until the answer it depends on
// rules it out, so the total only ever shrinks as the consumer goes on.
func (t *turn) fieldNumber(id string) (n, total int) {
	for _, f := range t.pol.Fields {
		if !t.applicable(f) && !t.undecided(f) {
			continue
		}
		total++
		if f.ID == id {
			n = total
		}
	}
	return n, total
}

// undecided reports whether a follow-up question depends on an answer not
// given yet.
func (t *turn) undecided(f policies.Field) bool {
	if f.AskIf == nil {
		return false
	}
	a, ok := t.s.Answers[f.AskIf.Field]
	return !ok || a.Skipped
}

// promptReview shows every answer, with a button to change each one.
func (t *turn) promptReview() {
	var b strings.Builder
	b.WriteString(t.text("intake.review", map[string]any{"Issuer": t.issuerName()}))
	b.WriteString("\n")
	rows := [][]Button{{t.button("button.submit", dataSubmit)}}
	for _, f := range t.pol.Fields {
		if !t.applicable(f) {
			continue
		}
		q := f.Prompt.In(t.s.Lang)
		fmt.Fprintf(&b, "\n• %s\n  %s", q, t.displayAnswer(f.ID))
		rows = append(rows, []Button{{Label: t.text("button.edit", map[string]any{"Question": shorten(q, 40)}), Data: prefixEdit + f.ID}})
	}
	rows = append(rows, []Button{t.button("button.cancel", dataCancel)})
	t.say("intake.review", b.String(), rows...)
}

func (t *turn) displayAnswer(id string) string {
	a, ok := t.s.Answers[id]
	if !ok || a.Skipped {
		return t.text("intake.no_answer", nil)
	}
	f, _ := t.pol.Field(id)
	return t.answerText(f, a)
}

// answerText is an answer as the consumer reads it now: a choice or a yes
// or no in the conversation's language, whichever language it was given
// in; anything else as written.
func (t *turn) answerText(f policies.Field, a Answer) string {
	switch f.Type {
	case policies.FieldChoice:
		for _, ch := range f.Choices {
			if ch.ID == a.Value {
				return ch.Label.In(t.lang())
			}
		}
	case policies.FieldYesNo:
		if a.Value == "yes" || a.Value == "no" {
			return t.text("answer."+a.Value, nil)
		}
	}
	return a.Display
}

// shorten cuts s to at most n runes, marking the cut.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// command runs a consumer's slash command.
func (t *turn) command(name, arg string) error {
	switch name {
	case CommandStart:
		return t.start(arg)
	case CommandNew:
		return t.startNew(arg)
	case CommandStatus:
		t.status()
	case CommandLanguage:
		if arg != "" {
			t.setLanguage(strings.ToLower(arg))
			t.prompt()
			return nil
		}
		t.sayKey("language.choose", nil, t.languageButtons())
	case CommandCancel:
		return t.askCancel()
	case CommandBack:
		t.back()
	case CommandHelp:
		t.keepKeyboard = true
		t.sayKey("help.text", nil)
		t.out[len(t.out)-1].Notice = NoticeHelp
	case CommandMyData:
		t.keepKeyboard = true
		t.privacy = PrivacyExport
	case CommandDelete:
		t.confirm(confirmErase, "privacy.delete_confirm", nil, t.button("button.erase", dataErase), t.button("button.keep", dataKeep))
	default:
		t.keepKeyboard = true
		t.sayKey("command.unknown", map[string]any{"Command": "/" + shorten(name, 32)})
	}
	return nil
}

// start handles /start, with an issuer from a deep link or without: a
// complaint being written is resumed rather than thrown away.
func (t *turn) start(issuer string) error {
	if issuer != "" {
		if p, ok := t.e.Policies().Get(issuer); !ok || p.Withdrawn {
			t.sayKey("intake.unknown_issuer", nil)
			issuer = ""
		}
	}
	inDraft := isDraft(t.s.State)
	switch {
	case inDraft && (issuer == "" || issuer == t.s.Issuer):
		t.resume()
		return nil
	case t.s.State == StateSubmitted && issuer == "":
		t.status()
		t.sayKey("intake.new_hint", nil)
		return nil
	}
	return t.startNew(issuer)
}

// startNew starts a new complaint, once the consumer confirms that the one
// they are writing may go.
func (t *turn) startNew(issuer string) error {
	if t.draftStarted() {
		t.askDiscard(confirmNew + issuer)
		return nil
	}
	return t.greet(issuer)
}

func (t *turn) setLanguage(lang string) {
	if !contains(t.e.Catalog.Languages(), lang) || (t.pol != nil && !t.pol.Offers(lang)) {
		offered := t.e.Catalog.Languages()
		if t.pol != nil {
			offered = t.pol.Languages
		}
		t.sayKey("language.not_offered", map[string]any{"Languages": t.languageNames(offered)})
		return
	}
	t.s.Lang, t.s.LangChosen, t.s.OwnLang = lang, true, ""
	if t.s.State == StateSubmitted && t.c != nil && t.c.Lang != lang {
		// The case follows: the agents answer, and Ombud writes about it,
		// in the language the consumer now reads.
		t.c.Lang, t.caseChanged = lang, true
	}
	t.sayKey("language.changed", nil)
}

// languageNames lists languages by their own names.
func (t *turn) languageNames(langs []string) string {
	names := make([]string, len(langs))
	for i, l := range langs {
		names[i] = t.text("langname."+l, nil)
	}
	return strings.Join(names, ", ")
}
