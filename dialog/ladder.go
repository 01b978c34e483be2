package dialog

import (
	"fmt"
	"io"
	"strings"

	"ombud/locales"
	"ombud/policies"
)

// ExplainOptions says how Explain shows a ladder.
type ExplainOptions struct {
	// Today is the day the ladder is read: a consumer's limit before it
	// has passed, and is shown so. The zero Date shows every limit as
	// ahead.
	Today policies.Date
	// Sources prints where each fact comes from, when it was checked, and
	// what a person must still confirm, for policy owners.
	Sources bool
}

// Explain writes a policy's whole ladder with its dates, in the printer's
// language: policy text from the policy, framing from the catalogs. It is
// what "ombud policy explain" prints.
func Explain(w io.Writer, pr *locales.Printer, pol *policies.Policy, plan policies.Plan, opts ExplainOptions) {
	lang := pr.Lang()
	day := dayFormatter(pr, pol)
	v := ladderView{today: opts.Today, sources: opts.Sources}
	fmt.Fprintln(w, pr.Text("explain.title", map[string]any{"Issuer": pol.Name.In(lang)}))
	fmt.Fprintln(w, pr.Text("explain.received", map[string]any{"Date": day(plan.ReceivedDate)}))
	if plan.FirstComplaintAssumed {
		fmt.Fprintln(w, pr.Text("explain.first_complaint_unknown", nil))
	} else {
		fmt.Fprintln(w, pr.Text("explain.first_complaint", map[string]any{"Date": day(plan.FirstComplaint)}))
	}
	for i, s := range plan.Steps {
		fmt.Fprintln(w)
		io.WriteString(w, renderStep(pr, pol, i+1, s, v))
	}
	if len(pol.Notes) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, pr.Text("explain.notes", nil))
		for _, n := range pol.Notes {
			fmt.Fprintln(w, "- "+n.Text.In(lang))
			if opts.Sources {
				io.WriteString(w, sourceLines(pr, n.Source, 2))
			}
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, pr.Text("explain.version", map[string]any{"Version": pol.Version, "Reviewed": pol.Reviewed}))
	if opts.Sources && pol.Source != "" {
		fmt.Fprintln(w, pr.Text("explain.source", map[string]any{"Ref": pol.Source, "Checked": pol.Reviewed}))
	}
}

// ladderView is what a rendering of the ladder knows besides the plan.
type ladderView struct {
	today   policies.Date
	sources bool
	// inForce are a filed case's dates that replace the plan's: its own
	// deadlines as they stand (later after a holding reply), by id.
	inForce map[string]policies.Date
	// claim is what the consumer claims, when they said, to hold against
	// each body's minimum.
	claim *policies.Money
}

func dayFormatter(pr *locales.Printer, pol *policies.Policy) func(policies.Date) string {
	loc := pol.Clock().Location()
	return func(d policies.Date) string { return pr.DayISO(d.Time(loc)) }
}

func periodText(pr *locales.Printer, p policies.Period) string {
	unit, n := p.Unit()
	return pr.Plural("period."+string(unit), n, nil)
}

// renderStep is one step of the ladder as numbered, indented lines: who,
// what, how to reach them, when it applies, its conditions and its dates.
func renderStep(pr *locales.Printer, pol *policies.Policy, n int, s policies.PlannedStep, v ladderView) string {
	w := &stepText{pr: pr, pol: pol, s: s, v: v, lang: pr.Lang(), day: dayFormatter(pr, pol)}
	w.b.WriteString(pr.Text("explain.step", map[string]any{"N": n, "Who": s.Who.In(w.lang)}) + "\n")
	w.who()
	w.applies()
	w.conditions()
	w.deadlines()
	return w.b.String()
}

// stepText writes one step of the ladder, its lines indented under the
// step's title.
type stepText struct {
	b    strings.Builder
	pr   *locales.Printer
	pol  *policies.Policy
	s    policies.PlannedStep
	v    ladderView
	lang string
	day  func(policies.Date) string
}

func (w *stepText) line(text string) { w.b.WriteString("   " + text + "\n") }

// source says where the facts above come from, when asked to.
func (w *stepText) source(src *policies.Source) {
	if w.v.sources {
		w.b.WriteString(sourceLines(w.pr, src, 3))
	}
}

// who is what the step is and how to reach it.
func (w *stepText) who() {
	s := w.s
	w.line(s.Description.In(w.lang))
	for _, c := range []struct{ id, value string }{
		{"address", s.Contact.Address}, {"email", s.Contact.Email},
		{"phone", s.Contact.Phone}, {"web", s.Contact.Web}, {"hours", s.Contact.Hours.In(w.lang)},
	} {
		if c.value != "" {
			w.line(w.pr.Text("explain.contact."+c.id, map[string]any{"Value": c.value}))
		}
	}
	w.source(s.Source)
}

// applies is when the step can be taken.
func (w *stepText) applies() {
	a, pr := w.s.Applies, w.pr
	after := ""
	if prev, ok := w.pol.Step(a.AfterStep); ok {
		after = prev.InSentence(w.lang)
	}
	if a.Always {
		w.line(pr.Text("explain.applies.always", nil))
	}
	if a.AfterRejection {
		w.line(pr.Text("explain.applies.after_rejection", map[string]any{"Step": after}))
	}
	if a.AfterNoAgreement {
		w.line(pr.Text("explain.applies.after_no_agreement", map[string]any{"Step": after}))
	}
	w.noAnswer(after)
	if !a.Always && !a.AfterRejection && !a.AfterNoAgreement && a.NoAnswerWithin == nil && a.NoAnswerBy == "" && after != "" {
		w.line(pr.Text("explain.applies.after_step", map[string]any{"Step": after}))
	}
	w.source(a.Source)
}

// noAnswer is when the step opens because the one before did not answer.
func (w *stepText) noAnswer(after string) {
	s, a, pr, day := w.s, w.s.Applies, w.pr, w.day
	switch {
	case s.NoAnswerBy == nil:
	case a.NoAnswerWithin != nil:
		w.line(pr.Text("explain.applies.no_answer", map[string]any{
			"Step": after, "Period": periodText(pr, *a.NoAnswerWithin), "Date": day(s.NoAnswerBy.Date)}))
	default:
		if d, ok := w.v.inForce[a.NoAnswerBy]; ok {
			// A filed case: the date in force, whatever a holding reply did.
			w.line(pr.Text("explain.applies.no_answer_by", map[string]any{"Step": after, "Date": day(d)}))
		} else if s.NoAnswerByExtended != nil {
			w.line(pr.Text("explain.applies.no_answer_by_extended", map[string]any{
				"Step": after, "Date": day(s.NoAnswerBy.Date), "Extended": day(s.NoAnswerByExtended.Date)}))
		} else {
			w.line(pr.Text("explain.applies.no_answer_by", map[string]any{"Step": after, "Date": day(s.NoAnswerBy.Date)}))
		}
	}
}

// conditions are the step's fee, minimum amount, languages, form and note.
func (w *stepText) conditions() {
	cond, pr := w.s.Conditions, w.pr
	if cond.Fee != nil {
		w.line(pr.Text("explain.fee", map[string]any{"Amount": pr.Money(cond.Fee.Amount, cond.Fee.Currency)}))
		w.source(cond.Fee.Source)
	}
	if m := cond.MinAmount; m != nil {
		w.line(pr.Text("explain.min_amount", map[string]any{"Amount": pr.Money(m.Amount, m.Currency)}))
		if c := w.v.claim; c != nil && c.Currency == m.Currency && c.Amount < m.Amount {
			w.line(pr.Text("explain.min_amount_below", map[string]any{"Claim": pr.Money(c.Amount, c.Currency), "Amount": pr.Money(m.Amount, m.Currency), "Body": w.s.InSentence(w.lang)}))
		}
		w.source(m.Source)
	}
	if len(cond.Languages) > 0 {
		names := make([]string, len(cond.Languages))
		for i, l := range cond.Languages {
			names[i] = pr.Text("langname."+l, nil)
		}
		w.line(pr.Text("explain.languages", map[string]any{"Languages": strings.Join(names, ", ")}))
	}
	if f := cond.Form.In(w.lang); f != "" {
		w.line(pr.Text("explain.form", map[string]any{"Form": f}))
	}
	if note := cond.Note.In(w.lang); note != "" {
		w.line(note)
	}
	w.source(cond.Source)
}

// deadlines are the step's dates: whom each binds, and when.
func (w *stepText) deadlines() {
	pr, day := w.pr, w.day
	for _, d := range w.s.Deadlines {
		data := map[string]any{"Label": d.Label.In(w.lang), "Period": periodText(pr, d.Period)}
		switch {
		case !d.Dated:
			w.line(pr.Text("explain.deadline.after_decision", data))
		case d.Due.ByHour:
			data["Time"] = day(d.Due.Date) + " " + d.Due.Ends.In(w.pol.Clock().Location()).Format("15:04")
			w.line(pr.Text("explain.deadline.hours", data))
		case d.Binds == policies.BindsConsumer && !w.v.today.IsZero() && d.Due.Date.Before(w.v.today):
			data["Date"], data["Body"] = day(d.Due.Date), w.s.InSentence(w.lang)
			w.line(pr.Text("explain.deadline.consumer_passed", data))
		case d.Binds == policies.BindsConsumer:
			data["Date"] = day(d.Due.Date)
			w.line(pr.Text("explain.deadline.consumer", data))
		default:
			data["Date"] = day(d.Due.Date)
			w.line(pr.Text("explain.deadline.issuer", data))
		}
		if d.Extended != nil {
			w.line(pr.Text("explain.extension", map[string]any{
				"Label": d.Extension.Label.In(w.lang), "Date": day(d.Extended.Date), "Period": periodText(pr, d.Extension.Period)}))
		}
		w.source(d.Source)
	}
}

// sourceLines says where a fact comes from and what is left to confirm.
func sourceLines(pr *locales.Printer, src *policies.Source, indent int) string {
	if src == nil {
		return ""
	}
	pad := strings.Repeat(" ", indent)
	out := pad + pr.Text("explain.source", map[string]any{"Ref": src.Ref, "Checked": src.Checked}) + "\n"
	if src.Confirm != "" {
		out += pad + pr.Text("explain.confirm", map[string]any{"What": src.Confirm}) + "\n"
	}
	return out
}
