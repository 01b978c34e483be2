package dialog

import (
	"fmt"
	"strconv"
	"strings"
	"time"

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
		History:        []Event{{At: t.now.UTC(), Kind: "submitted", By: "consumer"}},
	}
	for _, f := range pol.Fields {
		a, ok := t.s.Answers[f.ID]
		if !t.applicable(f) || !ok || a.Skipped {
			continue
		}
		c.Answers = append(c.Answers, FiledAnswer{
			Field: f.ID, Question: f.Prompt.In(t.s.Lang), Value: a.Value, Display: a.Display, Attachments: a.Attachments,
		})
		switch f.Register {
		case "product":
			c.Product = a.Value
		case "cause":
			c.Cause = a.Value
		}
	}
	t.c, t.caseChanged = c, true
	t.s.Case = c.ID
	t.refreshTimers()

	t.s.State = StateSubmitted
	t.receipt()
	t.s.Answers, t.s.Back, t.s.Sources, t.s.Field = nil, nil, nil, ""
	t.tellAgents("agent.case_new", map[string]any{
		"Case": c.ID, "Issuer": pol.Name.In("en"), "Lang": c.Lang, "Received": c.ReceivedDate.String(),
		"Summary": caseSummary(c),
	})
	for _, a := range c.Answers {
		for _, f := range a.Attachments {
			t.tellAgentsFile(f)
		}
	}
	return nil
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
		if d.Binds != "issuer" || !d.Dated {
			continue
		}
		cd := CaseDeadline{
			Step: step.ID, ID: d.ID, Kind: DeadlineAnswer, Label: d.Label.In(lang),
			Due: d.Due.Date, Ends: d.Due.Ends, ByHour: d.Due.ByHour,
		}
		if d.Extended != nil {
			ext, ends := d.Extended.Date, d.Extended.Ends
			cd.Extended, cd.ExtendedEnds = &ext, &ends
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
func (c *Complaint) open() bool {
	return c.Status != CaseDecided && c.Status != CaseClosed
}

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
		b.WriteString("\n" + t.deadlineLine(d))
		if d.Extended != nil {
			b.WriteString("\n" + t.text("case.filed_extension", map[string]any{"Date": t.day(*d.Extended)}))
		}
	}
	b.WriteString("\n\n" + t.text("case.filed_next", map[string]any{"Issuer": t.issuerName()}))
	b.WriteString("\n" + t.text("case.filed_version", map[string]any{"Version": c.PolicyVersion}))
	t.say("case.filed", b.String())
}

func (t *turn) day(d policies.Date) string {
	return t.pr().DayISO(d.Time(time.UTC))
}

// deadlineLine is one issuer date of the case, with the time of day for
// deadlines counted in hours.
func (t *turn) deadlineLine(d CaseDeadline) string {
	due, ends := t.c.activeEnds(d)
	date := t.day(due)
	if d.ByHour && t.pol != nil {
		date += " " + ends.In(t.pol.Clock().Location()).Format("15:04")
	}
	return t.text("case.deadline", map[string]any{"Label": d.Label, "Date": date})
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
	if t.c == nil { // the case is gone (erased): start afresh
		return t.greet("")
	}
	if n, ok := strings.CutPrefix(t.in.Data, prefixRate); ok && t.c.Status == CaseClosed {
		if v, err := strconv.Atoi(n); err == nil && v >= 1 && v <= 5 {
			t.c.Rating, t.caseChanged = v, true
			t.sayKey("case.rated", nil)
			return nil
		}
	}
	if t.c.Status == CaseClosed && t.c.Rating > 0 && t.c.RatingComment == "" && cleanText(t.in.Text) != "" {
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
		t.reprompt(&invalid{key: "validate.required"})
		return nil
	}
	t.c.History = append(t.c.History, Event{At: t.now.UTC(), Kind: "consumer", By: "consumer", Text: text})
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

// status shows where the case or the draft stands.
func (t *turn) status() {
	c := t.c
	if c == nil || t.s.State != StateSubmitted {
		if contains(draftStates, t.s.State) {
			t.sayKey("intake.status_draft", map[string]any{"Issuer": t.issuerName()})
			t.prompt()
			return
		}
		t.sayKey("intake.status_none", nil)
		return
	}
	var b strings.Builder
	b.WriteString(t.text("case.status", map[string]any{
		"Case": c.ID, "Issuer": t.issuerName(), "Status": t.text("status."+c.Status, nil), "Date": t.day(c.ReceivedDate),
	}))
	if c.open() && t.pol != nil {
		for _, d := range c.Deadlines {
			if d.Met {
				continue
			}
			due, _ := c.activeEnds(d)
			left := t.pol.Clock().WorkingDaysLeft(t.now, due)
			b.WriteString("\n" + t.deadlineLine(d))
			if left >= 0 {
				b.WriteString(" (" + t.pr().Plural("deadline.working_days_left", left, nil) + ")")
			} else {
				b.WriteString(" (" + t.text("case.deadline_missed", nil) + ")")
			}
		}
	}
	if c.Decision != nil {
		b.WriteString("\n" + t.text("case.status_decision", map[string]any{"Outcome": t.text("outcome."+c.Decision.Outcome, nil)}))
	}
	t.say("case.status", b.String())
}

// nextSteps is the rest of the ladder after the complaints function, with
// the dates that bind the consumer: where to go when the answer is no or
// never comes.
func (t *turn) nextSteps() string {
	if t.pol == nil || t.c == nil {
		return ""
	}
	_, idx := filedStep(t.pol)
	plan := t.pol.Plan(t.c.ReceivedAt, t.c.FirstComplaint)
	var b strings.Builder
	b.WriteString(t.text("case.next_steps", nil))
	n := 0
	for _, s := range plan.Steps[idx+1:] {
		n++
		b.WriteString("\n\n" + strings.TrimRight(renderStep(t.pr(), t.pol, n, s), "\n"))
	}
	return b.String()
}
