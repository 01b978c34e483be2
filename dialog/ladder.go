package dialog

import (
	"fmt"
	"io"
	"strings"

	"ombud/locales"
	"ombud/policies"
)

// Explain writes a policy's whole ladder with its dates, in the printer's
// language: policy text from the policy, framing from the catalogs. It is
// what "ombud policy explain" prints.
func Explain(w io.Writer, pr *locales.Printer, pol *policies.Policy, plan policies.Plan) {
	lang := pr.Lang()
	day := dayFormatter(pr, pol)
	fmt.Fprintln(w, pr.Text("explain.title", map[string]any{"Issuer": pol.Name.In(lang)}))
	fmt.Fprintln(w, pr.Text("explain.received", map[string]any{"Date": day(plan.ReceivedDate)}))
	if plan.FirstComplaintAssumed {
		fmt.Fprintln(w, pr.Text("explain.first_complaint_unknown", nil))
	} else {
		fmt.Fprintln(w, pr.Text("explain.first_complaint", map[string]any{"Date": day(plan.FirstComplaint)}))
	}
	for i, s := range plan.Steps {
		fmt.Fprintln(w)
		io.WriteString(w, renderStep(pr, pol, i+1, s))
	}
	if len(pol.Notes) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, pr.Text("explain.notes", nil))
		for _, n := range pol.Notes {
			fmt.Fprintln(w, "- "+n.Text.In(lang))
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, pr.Text("explain.version", map[string]any{"Version": pol.Version}))
}

func dayFormatter(pr *locales.Printer, pol *policies.Policy) func(policies.Date) string {
	loc := pol.Clock().Location()
	return func(d policies.Date) string { return pr.DayISO(d.Time(loc)) }
}

func periodText(pr *locales.Printer, p policies.Period) string {
	unit, n := p.Unit()
	return pr.Plural("period."+unit, n, nil)
}

// renderStep is one step of the ladder as numbered, indented lines: who,
// what, how to reach them, when it applies, its conditions and its dates.
func renderStep(pr *locales.Printer, pol *policies.Policy, n int, s policies.PlannedStep) string {
	lang := pr.Lang()
	day := dayFormatter(pr, pol)
	var b strings.Builder
	line := func(indent int, text string) { b.WriteString(strings.Repeat(" ", indent) + text + "\n") }

	line(0, pr.Text("explain.step", map[string]any{"N": n, "Who": s.Who.In(lang)}))
	line(3, s.Description.In(lang))
	for _, c := range []struct{ id, value string }{
		{"address", s.Contact.Address}, {"email", s.Contact.Email},
		{"phone", s.Contact.Phone}, {"web", s.Contact.Web}, {"hours", s.Contact.Hours.In(lang)},
	} {
		if c.value != "" {
			line(3, pr.Text("explain.contact."+c.id, map[string]any{"Value": c.value}))
		}
	}

	a := s.Applies
	after := ""
	if prev, ok := pol.Step(a.AfterStep); ok {
		after = prev.Who.In(lang)
	}
	if a.Always {
		line(3, pr.Text("explain.applies.always", nil))
	}
	if a.AfterRejection {
		line(3, pr.Text("explain.applies.after_rejection", map[string]any{"Step": after}))
	}
	if s.NoAnswerBy != nil {
		line(3, pr.Text("explain.applies.no_answer", map[string]any{
			"Step": after, "Period": periodText(pr, *a.NoAnswerWithin), "Date": day(s.NoAnswerBy.Date)}))
	}
	if !a.Always && !a.AfterRejection && a.NoAnswerWithin == nil && after != "" {
		line(3, pr.Text("explain.applies.after_step", map[string]any{"Step": after}))
	}

	cond := s.Conditions
	if cond.Fee != nil {
		line(3, pr.Text("explain.fee", map[string]any{"Amount": pr.Money(cond.Fee.Amount, cond.Fee.Currency)}))
	}
	if cond.MinAmount != nil {
		line(3, pr.Text("explain.min_amount", map[string]any{"Amount": pr.Money(cond.MinAmount.Amount, cond.MinAmount.Currency)}))
	}
	if len(cond.Languages) > 0 {
		names := make([]string, len(cond.Languages))
		for i, l := range cond.Languages {
			names[i] = pr.Text("lang."+l, nil)
		}
		line(3, pr.Text("explain.languages", map[string]any{"Languages": strings.Join(names, ", ")}))
	}
	if f := cond.Form.In(lang); f != "" {
		line(3, pr.Text("explain.form", map[string]any{"Form": f}))
	}
	if note := cond.Note.In(lang); note != "" {
		line(3, note)
	}

	for _, d := range s.Deadlines {
		data := map[string]any{"Label": d.Label.In(lang), "Period": periodText(pr, d.Period)}
		switch {
		case !d.Dated:
			line(3, pr.Text("explain.deadline.after_decision", data))
		case d.Due.ByHour:
			data["Time"] = day(d.Due.Date) + " " + d.Due.Ends.In(pol.Clock().Location()).Format("15:04")
			line(3, pr.Text("explain.deadline.hours", data))
		case d.Binds == "consumer":
			data["Date"] = day(d.Due.Date)
			line(3, pr.Text("explain.deadline.consumer", data))
		default:
			data["Date"] = day(d.Due.Date)
			line(3, pr.Text("explain.deadline.issuer", data))
		}
		if d.Extended != nil {
			line(3, pr.Text("explain.extension", map[string]any{
				"Label": d.Extension.Label.In(lang), "Date": day(d.Extended.Date), "Period": periodText(pr, d.Extension.Period)}))
		}
	}
	return b.String()
}
