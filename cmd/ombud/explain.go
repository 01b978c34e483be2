package main

import (
	"fmt"
	"io"
	"strings"

	"ombud/locales"
	"ombud/policies"
)

// writeExplanation prints a policy's ladder with its dates, in the printer's
// language: policy text from the policy, framing from the catalogs.
func writeExplanation(w io.Writer, pr *locales.Printer, pol *policies.Policy, plan policies.Plan) {
	lang := pr.Lang()
	loc := pol.Clock().Location()
	day := func(d policies.Date) string { return pr.DayISO(d.Time(loc)) }
	period := func(p policies.Period) string {
		unit, n := p.Unit()
		return pr.Plural("period."+unit, n, nil)
	}
	line := func(indent int, s string) { fmt.Fprintln(w, strings.Repeat(" ", indent)+s) }

	line(0, pr.Text("explain.title", map[string]any{"Issuer": pol.Name.In(lang)}))
	line(0, pr.Text("explain.received", map[string]any{"Date": day(plan.ReceivedDate)}))
	if plan.FirstComplaintAssumed {
		line(0, pr.Text("explain.first_complaint_unknown", nil))
	} else {
		line(0, pr.Text("explain.first_complaint", map[string]any{"Date": day(plan.FirstComplaint)}))
	}

	for i, s := range plan.Steps {
		fmt.Fprintln(w)
		line(0, pr.Text("explain.step", map[string]any{"N": i + 1, "Who": s.Who.In(lang)}))
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
		if a.AfterStep != "" {
			if prev, ok := pol.Step(a.AfterStep); ok {
				after = prev.Who.In(lang)
			}
		}
		if a.Always {
			line(3, pr.Text("explain.applies.always", nil))
		}
		if a.AfterRejection {
			line(3, pr.Text("explain.applies.after_rejection", map[string]any{"Step": after}))
		}
		if s.NoAnswerBy != nil {
			line(3, pr.Text("explain.applies.no_answer", map[string]any{
				"Step": after, "Period": period(*a.NoAnswerWithin), "Date": day(s.NoAnswerBy.Date)}))
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
		if n := cond.Note.In(lang); n != "" {
			line(3, n)
		}

		for _, d := range s.Deadlines {
			data := map[string]any{"Label": d.Label.In(lang), "Period": period(d.Period)}
			switch {
			case !d.Dated:
				line(3, pr.Text("explain.deadline.after_decision", data))
			case d.Due.ByHour:
				data["Time"] = day(d.Due.Date) + " " + d.Due.Ends.In(loc).Format("15:04")
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
					"Label": d.Extension.Label.In(lang), "Date": day(d.Extended.Date), "Period": period(d.Extension.Period)}))
			}
		}
	}

	if len(pol.Notes) > 0 {
		fmt.Fprintln(w)
		line(0, pr.Text("explain.notes", nil))
		for _, n := range pol.Notes {
			line(0, "- "+n.Text.In(lang))
		}
	}
	fmt.Fprintln(w)
	line(0, pr.Text("explain.version", map[string]any{"Version": pol.Version}))
}
