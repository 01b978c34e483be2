package dialog

import (
	"strings"
	"testing"
	"time"

	"github.com/looplab/fsm"

	"ombud/policies"
)

var dec18 = time.Date(2026, 12, 18, 10, 0, 0, 0, time.UTC)

func contains2(outs []Output, substr string) bool {
	for _, o := range outs {
		if strings.Contains(o.Text, substr) {
			return true
		}
	}
	return false
}

func TestIntakeAmexSESwedish(t *testing.T) {
	h := newHarness(t, "sv-SE", dec18)
	h.cmd(CommandStart, "amex-se")
	h.want(StatePrivacy, "intake.greeting")
	if h.s.Lang != "sv" || h.s.Issuer != "amex-se" {
		t.Fatalf("lang %s issuer %s, want sv amex-se", h.s.Lang, h.s.Issuer)
	}
	h.press(dataContinue)
	h.want(StateContacted, "intake.contacted")
	h.press(dataYes)
	h.want(StateFirstComplaint, "intake.first_complaint")
	h.say("2026-11-02")
	h.want(StatePriorAnswer, "intake.prior_answer")
	h.press(prefixPrior + string(PriorRejected))
	h.want(StateField, "intake.question")
	h.answerAllFields()

	// Change one answer from the review, then send.
	h.press(prefixEdit + "description")
	h.want(StateEditing, "intake.question")
	h.say("Dubbeldebitering den 1 november på 1 250 kr som kundservice inte har rättat.")
	h.want(StateReview, "intake.review")
	if !contains2(h.consumer(), "Dubbeldebitering den 1 november") {
		t.Error("review does not show the changed answer")
	}
	h.press(dataSubmit)
	h.want(StateSubmitted, "case.filed")

	receipt := h.consumer()[0].Text
	for _, want := range []string{"AXSE-2026-00001", "2026-12-18", "2027-01-15", "2027-02-12", "granskades 2026-11-27"} {
		if !strings.Contains(receipt, want) {
			t.Errorf("receipt lacks %q:\n%s", want, receipt)
		}
	}
	if h.c.FirstComplaint.String() != "2026-11-02" || h.c.PriorAnswer != PriorRejected || !h.c.Contacted {
		t.Errorf("complaint history = %s %s %v", h.c.FirstComplaint, h.c.PriorAnswer, h.c.Contacted)
	}
	if len(h.agents()) != 1 || h.agents()[0].Key != "agent.case_new" || h.agents()[0].Case != h.c.ID {
		t.Errorf("agents not told of the new case: %s", keys(h.out))
	}
	if len(h.timers) == 0 {
		t.Error("no deadline timers set for the new case")
	}
	for _, tm := range h.timers {
		if !tm.At.After(h.now) {
			t.Errorf("timer %+v is not in the future", tm)
		}
	}
	if h.s.Answers != nil || h.s.Case != h.c.ID {
		t.Errorf("session after filing: answers %v case %s", h.s.Answers, h.s.Case)
	}
}

func TestIntakeKlarnaDanishNotContactedFilesAnyway(t *testing.T) {
	h := newHarness(t, "da", dec18)
	h.say("hej")
	h.want(StatePrivacy, "intake.greeting")
	h.press(dataContinue)
	h.want(StateIssuer, "intake.issuer")
	h.press(prefixIssuer + "klarna-dk")
	h.want(StateContacted, "intake.contacted")
	h.say("nej")
	h.want(StateFirstStep, "intake.first_step")
	if !contains2(h.consumer(), "klarna.com/dk/kundeservice") {
		t.Errorf("first step does not give Klarna's contact:\n%s", h.consumer()[0].Text)
	}
	h.press(dataFile)
	h.want(StateField, "intake.question")
	h.answerAllFields()
	h.press(dataSubmit)
	h.want(StateSubmitted, "case.filed")
	if !strings.HasPrefix(h.c.ID, "KLDK-2026-") || h.c.Lang != "da" {
		t.Errorf("case %s lang %s", h.c.ID, h.c.Lang)
	}
	if h.c.FirstComplaint != h.c.ReceivedDate {
		t.Errorf("first complaint %s, want the receipt date when filing straight away", h.c.FirstComplaint)
	}
	if !contains2(h.consumer(), "2027-01-14") {
		t.Errorf("Danish receipt lacks the 15-working-day date 2027-01-14:\n%s", h.consumer()[0].Text)
	}
}

func TestIntakeBillenderEnglishFollowUpQuestion(t *testing.T) {
	h := newHarness(t, "en-GB", dec18)
	h.cmd(CommandStart, "billender")
	h.press(dataContinue)
	h.press(dataYes)
	h.press(dataToday)
	h.want(StatePriorAnswer, "")
	h.press(prefixPrior + string(PriorNone))
	// Answer until the yes/no about compensation, say yes, and the follow-up
	// questions must come.
	asked := map[string]bool{}
	for h.s.State == StateField {
		f, _ := h.policy().Field(h.s.Field)
		asked[f.ID] = true
		h.answer(goodAnswer(f))
	}
	if !asked["compensation_reason"] {
		t.Errorf("compensation_reason not asked after yes; asked %v", asked)
	}
	// Changing the answer to no drops the follow-up from the review.
	h.press(prefixEdit + "wants_compensation")
	h.press(dataNo)
	h.want(StateReview, "intake.review")
	if contains2(h.consumer(), h.policy().Fields[len(h.policy().Fields)-1].Prompt.In("en")) {
		t.Error("review still shows a question that no longer applies")
	}
	h.press(dataSubmit)
	h.want(StateSubmitted, "case.filed")
	for _, a := range h.c.Answers {
		if a.Field == "compensation_reason" {
			t.Error("a follow-up answer that no longer applies was filed")
		}
	}
	if h.c.Lang != "en" {
		t.Errorf("lang %s", h.c.Lang)
	}
}

func TestIntakeParkThenComeBack(t *testing.T) {
	h := newHarness(t, "sv", dec18)
	h.cmd(CommandStart, "amex-se")
	h.press(dataContinue)
	h.press(dataNo)
	h.press(dataLater)
	h.want(StateParked, "intake.parked")
	h.say("nu vill jag klaga")
	h.want(StatePrivacy, "intake.greeting")
}

func TestCancelAndNew(t *testing.T) {
	h := newHarness(t, "en", dec18)
	h.fileStraightAway("amex-dk")
	h.answer(goodAnswer(h.policy().Fields[0]))
	answered := len(h.s.Answers)

	// /cancel asks first; "no" keeps everything.
	h.cmd(CommandCancel, "")
	h.want(StateField, "intake.discard_confirm")
	h.press(dataKeepDraft)
	h.want(StateField, "intake.question")
	if len(h.s.Answers) != answered {
		t.Fatalf("keeping the draft lost answers: %v", h.s.Answers)
	}
	h.cmd(CommandCancel, "")
	h.press(dataDiscard)
	h.want(StateCancelled, "intake.cancelled")
	if h.s.Answers != nil {
		t.Error("cancel kept the answers")
	}
	h.cmd(CommandCancel, "")
	if h.consumer()[0].Key != "intake.nothing_to_cancel" {
		t.Errorf("second cancel: %s", keys(h.out))
	}
	h.cmd(CommandNew, "")
	h.want(StatePrivacy, "intake.greeting")
	// Nothing written yet: nothing to cancel, and the greeting stays.
	h.cmd(CommandCancel, "")
	h.want(StatePrivacy, "intake.nothing_to_cancel_yet")
}

func TestBackKeepsAnswers(t *testing.T) {
	h := newHarness(t, "en", dec18)
	h.fileStraightAway("amex-dk")
	first := h.s.Field
	h.answer(goodAnswer(h.policy().Fields[0]))
	second := h.s.Field
	if first == second {
		t.Fatal("did not move to the second field")
	}
	h.cmd(CommandBack, "")
	h.want(StateField, "intake.question")
	if h.s.Field != first {
		t.Fatalf("back went to %s, want %s", h.s.Field, first)
	}
	if _, kept := h.s.Answers[first]; !kept {
		t.Error("back lost the answer")
	}
	if !contains2(h.consumer(), "Your answer now") {
		t.Error("the earlier answer is not shown when going back")
	}
	h.cmd(CommandBack, "") // to the first-step question
	h.want(StateFirstStep, "intake.first_step")
	h.cmd(CommandBack, "")
	h.want(StateContacted, "intake.contacted")
	h.cmd(CommandBack, "") // nothing before: the issuer came from the link
	if h.consumer()[0].Key != "intake.nothing_to_go_back_to" {
		t.Errorf("back at the start: %s", keys(h.out))
	}
}

func TestLanguageChange(t *testing.T) {
	h := newHarness(t, "sv", dec18)
	h.cmd(CommandStart, "")
	h.press(prefixLang + "da")
	if h.s.Lang != "da" || !h.s.LangChosen {
		t.Fatalf("lang %s chosen %v", h.s.Lang, h.s.LangChosen)
	}
	h.press(dataContinue)
	h.press(prefixIssuer + "amex-se") // offers sv and en, not da
	if h.s.Lang != "en" {
		t.Errorf("lang after choosing a Swedish issuer = %s, want en", h.s.Lang)
	}
	h.cmd(CommandLanguage, "da")
	if h.s.Lang != "en" || h.consumer()[0].Key != "language.not_offered" {
		t.Errorf("da accepted for amex-se: lang %s, %s", h.s.Lang, keys(h.out))
	}
	h.cmd(CommandLanguage, "sv")
	if h.s.Lang != "sv" {
		t.Errorf("lang = %s, want sv", h.s.Lang)
	}
	h.want(StateContacted, "intake.contacted")
}

// Bad input at every question gets a localised re-prompt and loses nothing.
func TestBadInputEverywhere(t *testing.T) {
	bad := []string{"", "   ", strings.Repeat("x", 10000), "😀😀😀", "\x00\x07\x1b[31m", "🤬!!"}
	h := newHarness(t, "sv", dec18)
	h.cmd(CommandStart, "billender")
	visited := map[string]bool{}
	for steps := 0; h.s.State != StateSubmitted; steps++ {
		if steps > 60 {
			t.Fatal("never reached submission")
		}
		before := h.s
		inputs := bad
		if f, _ := h.e.Policies().Get("billender"); h.s.State == StateFirstComplaint || (h.s.State == StateField && fieldType(f.Fields, h.s.Field) == "date") {
			inputs = append(inputs, "31/02/2026", "2026-13-01")
		}
		for _, b := range inputs {
			h.say(b)
			if h.s.State != before.State || h.s.Field != before.Field {
				// Privacy accepts nothing but Continue; states only move on a valid answer.
				t.Fatalf("bad input %q moved %s/%s to %s/%s", b, before.State, before.Field, h.s.State, h.s.Field)
			}
			if len(h.s.Answers) != len(before.Answers) {
				t.Fatalf("bad input %q changed the answers", b)
			}
			if len(h.consumer()) == 0 {
				t.Fatalf("bad input %q at %s got no answer", b, h.s.State)
			}
		}
		visited[string(h.s.State)+"/"+h.s.Field] = true
		h.advanceWell()
	}
	if len(visited) < 8 {
		t.Errorf("visited only %v", visited)
	}
}

// advanceWell gives a good answer to whatever is asked.
func (h *harness) advanceWell() {
	switch h.s.State {
	case StatePrivacy:
		h.press(dataContinue)
	case StateContacted:
		h.press(dataYes)
	case StateFirstComplaint:
		h.say("2026-11-02")
	case StatePriorAnswer:
		h.press(prefixPrior + string(PriorOther))
	case StateField:
		f, _ := h.policy().Field(h.s.Field)
		h.answer(goodAnswer(f))
	case StateReview:
		h.press(dataSubmit)
	default:
		h.t.Fatalf("advanceWell in %s", h.s.State)
	}
}

func TestFieldValidationMessages(t *testing.T) {
	h := newHarness(t, "en", dec18)
	h.cmd(CommandStart, "billender")
	h.press(dataContinue)
	h.press(dataYes)
	h.say("2027-01-05")
	if h.consumer()[0].Key != "validate.date_future" {
		t.Errorf("future first-complaint date: %s", keys(h.out))
	}
	h.say("2/11/2026")
	h.press(prefixPrior + string(PriorNone))
	for h.s.State == StateField {
		f, _ := h.policy().Field(h.s.Field)
		var badText, wantKey string
		switch f.Type {
		case "email":
			badText, wantKey = "anna.example.se", "validate.email"
		case "date":
			badText, wantKey = "31/02/2026", "validate.date"
		case "phone":
			badText, wantKey = "call me", "validate.phone"
		case "amount":
			badText, wantKey = "a lot", "validate.amount"
		case "long_text":
			badText, wantKey = "bad", "validate.too_short"
		}
		if badText != "" {
			h.say(badText)
			if got := h.consumer()[0].Key; got != wantKey {
				t.Errorf("%s %q: got %s, want %s", f.ID, badText, got, wantKey)
			}
		}
		h.answer(goodAnswer(f))
	}
}

func TestCardNumbersAreMasked(t *testing.T) {
	h := newHarness(t, "en", dec18)
	h.fileStraightAway("amex-se")
	for h.s.State == StateField {
		f, _ := h.policy().Field(h.s.Field)
		if f.Type == "long_text" {
			h.say("My card 3782 822463 10005 was charged twice for the same hotel.")
			if h.consumer()[0].Key != "validate.card_masked" {
				t.Errorf("no warning about the card number: %s", keys(h.out))
			}
			a := h.s.Answers[f.ID]
			if strings.Contains(a.Value, "822463") || !strings.Contains(a.Value, "0005") {
				t.Errorf("stored answer %q keeps the card number", a.Value)
			}
			continue
		}
		h.answer(goodAnswer(f))
	}
}

func TestEditedMessageUpdatesItsAnswer(t *testing.T) {
	h := newHarness(t, "en", dec18)
	h.fileStraightAway("amex-dk")
	for fld, _ := h.policy().Field(h.s.Field); fld.Type != "long_text"; fld, _ = h.policy().Field(h.s.Field) {
		h.answer(goodAnswer(fld))
	}
	f := h.s.Field
	h.run(Input{Kind: InputMessage, Ref: "m42", Text: "The shop charged me twice on 3 November."})
	h.run(Input{Kind: InputMessage, Ref: "m42", Edited: true, Text: "The shop in Aarhus charged me twice on 3 November."})
	if got := h.s.Answers[f].Value; !strings.Contains(got, "Aarhus") {
		t.Errorf("edit not applied: %q", got)
	}
	if h.consumer()[0].Key != "intake.edit_applied" {
		t.Errorf("edit not confirmed: %s", keys(h.out))
	}
}

func TestResumeAndStatus(t *testing.T) {
	h := newHarness(t, "sv", dec18)
	h.fileStraightAway("amex-se")
	field := h.s.Field
	h.run(Input{Kind: InputResume})
	h.want(StateField, "intake.resume")
	if h.s.Field != field {
		t.Error("resume moved the question")
	}
	h.cmd(CommandStart, "") // /start mid-complaint resumes, it does not restart
	h.want(StateField, "intake.question")
	h.cmd(CommandStatus, "")
	h.want(StateField, "intake.status_draft")
	h.cmd(CommandHelp, "")
	h.cmd("frobnicate", "")
	if h.consumer()[0].Key != "command.unknown" {
		t.Errorf("unknown command: %s", keys(h.out))
	}
}

// Every callback name must name a real state or event: looplab/fsm drops a
// misspelt one silently.
func TestCallbackNames(t *testing.T) {
	check := func(machine string, cbs fsm.Callbacks, events fsm.Events, states []string) {
		valid := map[string]bool{"state": true, "event": true}
		for _, e := range events {
			valid[e.Name] = true
			for _, s := range e.Src {
				valid[s] = true
			}
			valid[e.Dst] = true
		}
		for _, s := range states {
			if !valid[s] {
				t.Errorf("%s: state %s is in no transition", machine, s)
			}
		}
		for name := range cbs {
			base := name
			for _, prefix := range []string{"before_", "leave_", "enter_", "after_"} {
				base = strings.TrimPrefix(base, prefix)
			}
			if !valid[base] {
				t.Errorf("%s: callback %q names no state or event", machine, name)
			}
		}
	}
	var intakeStates, caseStates []string
	for _, s := range intakeSteps {
		intakeStates = append(intakeStates, string(s.state))
	}
	for _, s := range CaseStatuses() {
		caseStates = append(caseStates, string(s))
	}
	check("intake", intakeCallbacks, intakeEvents, intakeStates)
	check("case", caseCallbacks, caseEvents, caseStates)
}

func fieldType(fields []policies.Field, id string) string {
	for _, f := range fields {
		if f.ID == id {
			return f.Type
		}
	}
	return ""
}

func TestBackToTheIssuerListShowsIt(t *testing.T) {
	h := newHarness(t, "en", dec18)
	h.cmd(CommandStart, "")
	h.press(dataContinue)
	h.press(prefixIssuer + "amex-se")
	h.cmd(CommandBack, "")
	h.want(StateIssuer, "intake.issuer")
	if len(h.consumer()[0].Buttons) != 5 {
		t.Errorf("issuer list has %d rows", len(h.consumer()[0].Buttons))
	}
	h.press(prefixIssuer + "billender")
	h.want(StateContacted, "intake.contacted")
}

func TestMalformedButtonDataIsHarmless(t *testing.T) {
	h := filed(t, "billender", "en")
	h.agent(ActionClose, "", "")
	for _, data := range []string{"rate:", "rate:9", "rate:x", "rate:" + h.c.ID + ":9", "issuer:", "edit:", "choice:", "|", "0|go", "-1|x", "99999999999999999999|x"} {
		h.pressRaw(data) // must not panic or fail the turn
	}
	if h.c.Rating != 0 {
		t.Errorf("rating %d from malformed data", h.c.Rating)
	}
}
