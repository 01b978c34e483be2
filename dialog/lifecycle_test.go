package dialog

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// filed returns a harness with a filed amex-se complaint, in Swedish.
func filed(t *testing.T, issuer, lang string) *harness {
	h := newHarness(t, lang, dec18)
	h.cmd(CommandStart, issuer)
	h.press(dataContinue)
	h.press(dataYes)
	h.say("2026-11-02")
	h.press(prefixPrior + string(PriorRejected))
	h.answerAllFields()
	h.press(dataSubmit)
	h.want(StateSubmitted, "case.filed")
	return h
}

func TestCaseLifecycle(t *testing.T) {
	h := filed(t, "amex-se", "sv")

	// Before an agent owns the case, the bot acknowledges consumer messages.
	h.say("Jag har fler kvitton.")
	if len(h.consumer()) != 1 || h.consumer()[0].Key != "case.message_added" {
		t.Errorf("consumer message before claim: %s", keys(h.out))
	}
	if len(h.agents()) != 1 || !strings.Contains(h.agents()[0].Text, "Jag har fler kvitton.") {
		t.Errorf("consumer message not forwarded: %s", keys(h.out))
	}

	h.agent(ActionClaim, "", "")
	if h.c.Status != CaseInProgress || h.c.ClaimedBy != "Eva" || !h.c.HumanOwned {
		t.Fatalf("after claim: %s %s %v", h.c.Status, h.c.ClaimedBy, h.c.HumanOwned)
	}
	h.want(StateSubmitted, "case.claimed")

	// Once a human owns the case the bot stays quiet.
	h.say("Hallå?")
	if len(h.consumer()) != 0 || len(h.agents()) != 1 {
		t.Errorf("bot answered for the agent: %s", keys(h.out))
	}

	h.agent(ActionNote, "", "Kunden verkar ha rätt.")
	if len(h.consumer()) != 0 {
		t.Errorf("an internal note reached the consumer: %s", keys(h.out))
	}
	h.agent(ActionReply, "", "// internt: kolla med kortavdelningen")
	if len(h.consumer()) != 0 {
		t.Errorf("a reply marked // reached the consumer: %s", keys(h.out))
	}
	h.agent(ActionReply, "", "Vi tittar på debiteringen och återkommer.")
	h.want(StateSubmitted, "case.agent_reply")
	if !strings.Contains(h.consumer()[0].Text, "Eva") || !strings.Contains(h.consumer()[0].Text, "Vi tittar på debiteringen") {
		t.Errorf("reply framing: %q", h.consumer()[0].Text)
	}

	h.agent(ActionExtend, "", "Vi väntar på handlingar från butiken.")
	h.want(StateSubmitted, "case.extended")
	if h.c.Status != CaseExtended || !strings.Contains(h.consumer()[0].Text, "2027-02-12") {
		t.Errorf("extend: status %s text %q", h.c.Status, h.consumer()[0].Text)
	}
	for _, tm := range h.timers {
		if tm.Kind == TimerDue && tm.Deadline == "decision" && tm.At.Before(time.Date(2027, 2, 12, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("decision timer not moved to the extended date: %v", tm.At)
		}
	}
	h.agent(ActionExtend, "", "igen")
	if len(h.agents()) != 1 || h.agents()[0].Key != "agent.invalid_action" {
		t.Errorf("second extension: %s", keys(h.out))
	}

	h.agent(ActionDecide, OutcomeRejected, "Vi kan inte återbetala beloppet.")
	h.want(StateSubmitted, "case.decided.rejected")
	msg := h.consumer()[0].Text
	for _, want := range []string{"Vi kan inte återbetala beloppet.", "Allmänna reklamationsnämnden", "150 SEK", "2027-11-02"} {
		if !strings.Contains(msg, want) {
			t.Errorf("rejection lacks %q:\n%s", want, msg)
		}
	}
	if len(h.timers) != 0 {
		t.Errorf("timers left after the decision: %v", h.timers)
	}

	h.agent(ActionClose, "", "")
	h.want(StateSubmitted, "case.closed")
	h.agent(ActionReply, "", "Hej igen")
	if len(h.consumer()) != 0 || h.agents()[0].Key != "agent.case_closed" {
		t.Errorf("reply on a closed case: %s", keys(h.out))
	}
	h.agent(ActionReopen, "", "")
	if h.c.Status != CaseInProgress {
		t.Errorf("reopen: %s", h.c.Status)
	}
	h.cmd(CommandStatus, "")
	h.want(StateSubmitted, "case.status")

	kinds := map[EventKind]bool{}
	for _, e := range h.c.History {
		kinds[e.Kind] = true
	}
	for _, k := range []EventKind{EventSubmitted, EventConsumer, EventClaim, EventNote, EventReply, EventExtend, EventDecide, EventClose, EventReopen} {
		if !kinds[k] {
			t.Errorf("history lacks %s", k)
		}
	}
}

func TestDecideUpheldHasNoNextSteps(t *testing.T) {
	h := filed(t, "amex-se", "en")
	h.agent(ActionDecide, OutcomeUpheld, "We refund the 1 250 SEK.")
	h.want(StateSubmitted, "case.decided.upheld")
	if strings.Contains(h.consumer()[0].Text, "ARN") {
		t.Error("an upheld complaint was sent to ARN")
	}
	h.agent(ActionDecide, "maybe", "x")
	if h.agents()[0].Key != "agent.invalid_action" && h.agents()[0].Key != "agent.outcome_required" {
		t.Errorf("bad outcome: %s", keys(h.out))
	}
}

func TestAgentErrors(t *testing.T) {
	h := filed(t, "billender", "en")
	for _, tt := range []struct {
		action     Action
		outcome    Outcome
		text, want string
	}{
		{ActionReply, "", "", "agent.text_required"},
		{ActionDecide, "", "no", "agent.outcome_required"},
		{ActionExtend, "", "need time", "agent.no_extension"}, // Billender promises no extension
		{"dance", "", "", "agent.unknown_action"},
		{ActionReopen, "", "", "agent.invalid_action"},
	} {
		h.agent(tt.action, tt.outcome, tt.text)
		if len(h.agents()) != 1 || h.agents()[0].Key != tt.want || len(h.consumer()) != 0 {
			t.Errorf("%s %q: %s, want agents:%s only", tt.action, tt.text, keys(h.out), tt.want)
		}
	}
}

func TestDeadlineTimers(t *testing.T) {
	h := filed(t, "amex-dk", "da")
	var due, reminder *Timer
	for i, tm := range h.timers {
		if tm.Deadline == "decision" && tm.Kind == TimerDue {
			due = &h.timers[i]
		}
		if tm.Deadline == "decision" && tm.Kind == TimerReminder {
			reminder = &h.timers[i]
		}
	}
	if due == nil || reminder == nil {
		t.Fatalf("timers = %+v", h.timers)
	}
	if got := due.At.In(time.UTC).Format(time.DateOnly); got != "2027-01-14" {
		t.Errorf("decision timer at %s, want the end of 2027-01-14 local", due.At)
	}
	fire := func(tm Timer) {
		h.now = tm.At
		h.run(Input{Kind: InputTimer, Case: h.c.ID, Timer: &tm})
	}
	fire(*reminder)
	if len(h.consumer()) != 0 || len(h.agents()) != 1 || h.agents()[0].Key != "agent.reminder" {
		t.Errorf("reminder: %s", keys(h.out))
	}
	fire(*due)
	h.want(StateSubmitted, "case.deadline_passed")
	if !strings.Contains(h.consumer()[0].Text, "Det Finansielle Ankenævn") && !strings.Contains(h.consumer()[0].Text, "Ankenævn") {
		t.Errorf("breach does not name the next steps:\n%s", h.consumer()[0].Text)
	}
	if h.agents()[0].Key != "agent.deadline_passed" {
		t.Errorf("agents not alerted: %s", keys(h.out))
	}
	// Firing twice does nothing more.
	fire(*due)
	if len(h.out) != 0 {
		t.Errorf("second firing: %s", keys(h.out))
	}
}

func TestTimerAfterDecisionIsIgnored(t *testing.T) {
	h := filed(t, "amex-se", "sv")
	tm := h.timers[len(h.timers)-1]
	h.agent(ActionDecide, OutcomeUpheld, "Vi återbetalar.")
	h.now = tm.At
	h.run(Input{Kind: InputTimer, Case: h.c.ID, Timer: &tm})
	if len(h.out) != 0 {
		t.Errorf("timer after the decision: %s", keys(h.out))
	}
}

func TestTeamNameSignsReplies(t *testing.T) {
	h := filed(t, "amex-se", "sv")
	p, _ := h.e.Policies().Get("amex-se")
	p.AgentName = map[string]string{"sv": "Klagomålsavdelningen", "en": "The complaints team"}
	defer func() { p.AgentName = nil }()
	h.agent(ActionReply, "", "Vi återkommer.")
	if got := h.consumer()[0].Text; !strings.Contains(got, "Klagomålsavdelningen") || strings.Contains(got, "Eva") {
		t.Errorf("reply signed %q", got)
	}
	if h.c.History[len(h.c.History)-1].By != "Eva" {
		t.Error("the case no longer records which agent answered")
	}
}

func TestRatingAfterClose(t *testing.T) {
	h := filed(t, "billender", "en")
	h.agent(ActionDecide, OutcomeUpheld, "We refund you.")
	h.agent(ActionClose, "", "")
	var rate *Output
	for i, o := range h.consumer() {
		if o.Key == "case.rate" {
			rate = &h.consumer()[i]
		}
	}
	if rate == nil || len(rate.Buttons) != 1 || len(rate.Buttons[0]) != 5 {
		t.Fatalf("no 1-5 rating offered: %s", keys(h.out))
	}
	h.press(rate.Buttons[0][3].Data)
	h.want(StateSubmitted, "case.rated")
	h.say("Quick and fair.")
	h.want(StateSubmitted, "case.rating_comment_saved")
	if h.c.Rating != 4 || h.c.RatingComment != "Quick and fair." {
		t.Errorf("rating %d %q", h.c.Rating, h.c.RatingComment)
	}
	row := h.c.Row(h.policy(), h.now)
	if row.Rating != 4 || row.OnTime != "yes" || row.Outcome != OutcomeUpheld || row.EscalationAdvice {
		t.Errorf("register row: %+v", row)
	}
}

func TestRegisterRowLateDecision(t *testing.T) {
	h := filed(t, "amex-se", "sv") // received 2026-12-18, decision due 2027-01-15
	h.now = time.Date(2027, 1, 20, 10, 0, 0, 0, time.UTC)
	if row := h.c.Row(h.policy(), h.now); row.OnTime != "no" || row.WorkingDaysLate != 3 {
		t.Errorf("open and late: %s %d", row.OnTime, row.WorkingDaysLate)
	}
	h.agent(ActionDecide, OutcomeRejected, "Nej.")
	row := h.c.Row(h.policy(), h.now)
	if row.OnTime != "no" || row.WorkingDaysLate != 3 || !row.EscalationAdvice || row.WorkingDaysToDecision != 18 || row.DecidedBy != "Eva" {
		t.Errorf("late rejection: %+v", row)
	}
}

func TestDailyHeaderRefresh(t *testing.T) {
	h := filed(t, "amex-se", "sv")
	var refresh *Timer
	for i, tm := range h.timers {
		if tm.Kind == TimerRefresh {
			refresh = &h.timers[i]
		}
	}
	if refresh == nil || refresh.At.Format(time.RFC3339) != "2026-12-18T23:00:00Z" {
		t.Fatalf("no refresh at the next Stockholm midnight: %+v", h.timers)
	}
	h.now = refresh.At
	h.run(Input{Kind: InputTimer, Case: h.c.ID, Timer: refresh})
	if len(h.consumer()) != 0 || len(h.agents()) != 1 || h.agents()[0].Key != "agent.header" {
		t.Errorf("refresh: %s", keys(h.out))
	}
	next := false
	for _, tm := range h.timers {
		next = next || (tm.Kind == TimerRefresh && tm.At.Format(time.RFC3339) == "2026-12-19T23:00:00Z")
	}
	if !next {
		t.Errorf("no refresh set for the following midnight: %+v", h.timers)
	}
	h.agent(ActionDecide, OutcomeUpheld, "Ja.")
	for _, tm := range h.timers {
		if tm.Kind == TimerRefresh {
			t.Error("a decided case is still refreshed")
		}
	}
}

func TestPurgeTimerAsksForErasureOnlyWhileClosed(t *testing.T) {
	h := filed(t, "amex-dk", "da")
	h.agent(ActionClose, "", "")
	var purge Timer
	for _, tm := range h.timers {
		if tm.Kind == TimerPurge {
			purge = tm
		}
	}
	if purge.Case == "" {
		t.Fatalf("no purge timer: %+v", h.timers)
	}
	run := func() Result {
		res, err := h.e.Handle(context.Background(), Turn{Now: purge.At, Session: h.s, Complaint: h.c}, Input{Kind: InputTimer, Case: h.c.ID, Timer: &purge})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if !run().Erase {
		t.Error("a closed case at the end of its retention is not erased")
	}
	h.agent(ActionReopen, "", "")
	if run().Erase {
		t.Error("a reopened case would be erased")
	}
}

// Text a consumer or an agent wrote never becomes a spreadsheet formula.
func TestRegisterCSVIsInert(t *testing.T) {
	rows := []RegisterRow{{Case: "AXSE-2026-00001", RatingComment: `=HYPERLINK("http://evil","klicka")`, HoldingReason: "+46 70 123", ClaimedBy: "@eva", DecidedBy: "-1+1", Outcome: "\tx"}}
	var b strings.Builder
	if err := WriteRegisterCSV(&b, rows); err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(b.String(), "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, cell := range records[1] {
		if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
			t.Errorf("cell %q would be a formula", cell)
		}
	}
	if !strings.Contains(b.String(), `'=HYPERLINK`) {
		t.Errorf("the comment was not kept as text:\n%s", b.String())
	}
}

// An output queued by an Ombud from before notices had their own field is
// read with the notice its key stood for, so an upgrade with a full
// outbox posts no "agent.header" text into a thread.
func TestLegacyOutboxEntriesGetTheirNotice(t *testing.T) {
	for key, want := range map[string]Notice{"agent.header": NoticeRedraw, "agent.case_new": NoticeCaseOpened, "agent.erased": NoticeRedact} {
		var out Output
		if err := json.Unmarshal([]byte(`{"to":"agents","case":"X","key":"`+key+`","text":"t"}`), &out); err != nil {
			t.Fatal(err)
		}
		if out.Notice != want {
			t.Errorf("%s read as notice %q, want %q", key, out.Notice, want)
		}
	}
	var consumer Output
	if err := json.Unmarshal([]byte(`{"to":"consumer","key":"agent.header","text":"t"}`), &consumer); err != nil || consumer.Notice != "" {
		t.Errorf("a consumer output got notice %q (%v)", consumer.Notice, err)
	}
}
