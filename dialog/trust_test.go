package dialog

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"ombud/policies"
)

// Each test here pins a path a consumer took that ended somewhere they did
// not mean. The walker (walker_test.go) searches for more.

// A second complaint, started with /new after a filed one, goes to the
// company chosen for it, with that company's questions.
func TestSecondComplaintGoesToTheCompanyChosen(t *testing.T) {
	h := filed(t, "amex-dk", "da")
	first := h.c.ID
	h.cmd(CommandNew, "")
	h.want(StatePrivacy, "intake.greeting")
	h.press(dataContinue)
	h.press(prefixIssuer + "klarna-dk")
	h.want(StateContacted, "intake.contacted")
	if !contains2(h.consumer(), "Klarna") {
		t.Fatalf("contacted question is not about Klarna: %q", h.consumer()[0].Text)
	}
	h.press(dataNo)
	h.press(dataFile)
	klarna, _ := h.e.Policies().Get("klarna-dk")
	if _, ok := klarna.Field(h.s.Field); !ok {
		t.Fatalf("asking field %q, which Klarna's policy does not have", h.s.Field)
	}
	for h.s.State == StateField {
		f, ok := klarna.Field(h.s.Field)
		if !ok {
			t.Fatalf("asking field %q, which Klarna's policy does not have", h.s.Field)
		}
		h.answer(goodAnswer(f))
	}
	h.press(dataSubmit)
	h.want(StateSubmitted, "case.filed")
	if h.c.Issuer != "klarna-dk" || !strings.HasPrefix(h.c.ID, "KLDK-2026-") {
		t.Fatalf("second complaint filed as %s with %s, want a Klarna case", h.c.ID, h.c.Issuer)
	}
	if !contains2(h.consumer(), "Klarna") {
		t.Errorf("receipt does not name Klarna: %q", h.consumer()[0].Text)
	}
	if got := h.s.filed(); len(got) != 2 || got[0] != first || got[1] != h.c.ID {
		t.Errorf("conversation's cases = %v, want [%s %s]", got, first, h.c.ID)
	}
}

// A file added while changing the attachments answer from the review
// replaces the skip: the review, the case and the desk all have it.
func TestAttachmentAddedFromTheReview(t *testing.T) {
	h := newHarness(t, "en", dec18)
	h.fileStraightAway("amex-se")
	pol := h.policy()
	var attachments string
	for h.s.State == StateField {
		f, _ := pol.Field(h.s.Field)
		if f.Type == policies.FieldAttachments {
			attachments = f.ID
		}
		h.answer(goodAnswer(f)) // attachments: Done with no file
	}
	if attachments == "" {
		t.Fatal("amex-se asks for no attachments")
	}
	if a := h.s.Answers[attachments]; !a.Skipped {
		t.Fatalf("attachments answer after Done with none = %+v, want skipped", a)
	}
	h.press(prefixEdit + attachments)
	h.want(StateEditing, "intake.question")
	h.run(Input{Kind: InputMessage, Attachment: &Attachment{FileID: "f1", Name: "statement.pdf", Size: 1000}})
	h.want(StateEditing, "intake.attachment_received")
	h.press(dataDone)
	h.want(StateReview, "intake.review")
	if !contains2(h.consumer(), "statement.pdf") {
		t.Errorf("review does not show the file:\n%s", h.consumer()[0].Text)
	}
	h.press(dataSubmit)
	h.want(StateSubmitted, "case.filed")
	var filedFile bool
	for _, a := range h.c.Answers {
		filedFile = filedFile || (a.Field == attachments && len(a.Attachments) == 1 && a.Attachments[0].Name == "statement.pdf")
	}
	if !filedFile {
		t.Errorf("case answers lack the file: %+v", h.c.Answers)
	}
	var toDesk bool
	for _, o := range h.agents() {
		toDesk = toDesk || (o.Attachment != nil && o.Attachment.Name == "statement.pdf")
	}
	if !toDesk {
		t.Errorf("the desk was not sent the file: %s", keys(h.out))
	}
}

// A typed number is text where no buttons are offered, and an old
// keyboard's button never answers today's question.
func TestOldButtonsNeverAnswer(t *testing.T) {
	h := newHarness(t, "en", dec18)
	h.fileStraightAway("billender")
	topic, _ := h.policy().Field(h.s.Field)
	if topic.Type != policies.FieldChoice {
		t.Fatalf("billender's first field is %s, want a choice", topic.Type)
	}
	oldFees := h.shown[prefixChoice+"fees"]
	h.press(prefixChoice + "terms")
	if h.s.Field != "full_name" {
		t.Fatalf("second field = %s, want full_name", h.s.Field)
	}
	// The topic keyboard is still on screen: pressing "fees" there must not
	// answer the name question.
	h.pressRaw(oldFees)
	h.want(StateField, "intake.old_button")
	if h.s.Field != "full_name" || h.s.Answers["topic"].Value != "terms" {
		t.Fatalf("old button moved the dialog: field %s, answers %v", h.s.Field, h.s.Answers)
	}
	if _, ok := h.s.Answers["full_name"]; ok {
		t.Fatalf("old button answered the name: %v", h.s.Answers["full_name"])
	}
	h.say("3")
	h.want(StateField, "validate.too_short") // a name of one character: text, and too short
	if got, ok := h.s.Answers["full_name"]; ok {
		t.Errorf("typed 3 on the name question stored %q", got.Value)
	}

	// Forged data without a keyboard number is refused as old.
	h.pressRaw(prefixChoice + "fees")
	h.want(StateField, "intake.old_button")

	// A double press on Send files one complaint.
	for h.s.State == StateField {
		f, _ := h.policy().Field(h.s.Field)
		h.answer(goodAnswer(f))
	}
	send := h.shown[dataSubmit]
	h.pressRaw(send)
	h.want(StateSubmitted, "case.filed")
	h.pressRaw(send)
	h.want(StateSubmitted, "intake.old_button")
	if len(h.cases) != 1 {
		t.Errorf("a double press filed %d cases", len(h.cases))
	}

	// A rating counts once; after it and a comment, the rating keyboard
	// changes nothing.
	h.agent(ActionDecide, OutcomeUpheld, "Refunded.")
	h.agent(ActionClose, "", "")
	h.press(prefixRate + h.c.ID + ":4")
	h.say("Quick.")
	h.want(StateSubmitted, "case.rating_comment_saved")
	h.press(prefixRate + h.c.ID + ":1")
	h.want(StateSubmitted, "case.rating_closed")
	if h.c.Rating != 4 || h.c.RatingComment != "Quick." {
		t.Errorf("rating %d %q, want 4 and the comment", h.c.Rating, h.c.RatingComment)
	}
	h.say("1")
	if h.c.Rating != 4 {
		t.Errorf("typing 1 changed the rating to %d", h.c.Rating)
	}
}

// Throwing away a new draft leaves the filed cases reachable, and agents'
// answers on a case arrive in the case's language.
func TestDiscardedDraftKeepsTheOpenCases(t *testing.T) {
	h := filed(t, "amex-se", "sv")
	first := h.c.ID
	h.cmd(CommandNew, "")
	h.press(dataContinue)
	h.press(prefixIssuer + "amex-se")
	h.press(dataNo)
	h.press(dataFile)
	for h.s.State == StateField {
		f, _ := h.policy().Field(h.s.Field)
		h.answer(goodAnswer(f))
	}
	h.press(dataSubmit)
	second := h.c.ID
	if second == first {
		t.Fatal("second complaint reused the first case number")
	}

	// A third draft, in English for a Danish company, thrown away.
	h.cmd(CommandNew, "")
	h.press(prefixLang + "en")
	h.press(dataContinue)
	h.press(prefixIssuer + "klarna-dk")
	h.press(dataYes)
	h.cmd(CommandCancel, "")
	h.press(dataDiscard)
	h.want(StateSubmitted, "intake.draft_discarded")
	h.cmd(CommandStatus, "")
	h.want(StateSubmitted, "case.status")
	for _, id := range []string{first, second} {
		if !contains2(h.consumer(), id) {
			t.Errorf("/status after a discarded draft hides %s:\n%s", id, texts(h.consumer()))
		}
	}
	if contains2(h.consumer(), "no complaint") {
		t.Errorf("/status says there is no complaint:\n%s", texts(h.consumer()))
	}

	// The agent answers the first case, filed in Swedish.
	h.run(Input{Kind: InputAgent, Case: first, Agent: &AgentAction{Action: ActionReply, Agent: "Eva", Text: "Vi tittar på det."}})
	reply := h.consumer()[0]
	if reply.Key != "case.agent_reply" || !strings.Contains(reply.Text, "ärende "+first) {
		t.Errorf("reply on %s under the wrong heading: %q", first, reply.Text)
	}
	if h.s.Case != first {
		t.Errorf("after the agent wrote on %s the conversation follows %s", first, h.s.Case)
	}
	// Buttons of the status list turn to another case.
	h.cmd(CommandStatus, "")
	h.press(prefixCase + second)
	h.want(StateSubmitted, "case.following")
	if h.s.Case != second {
		t.Errorf("following %s, want %s", h.s.Case, second)
	}
}

// The small things a first-time user met.
func TestCounterNeverGrowsAndEmptyOptionalLines(t *testing.T) {
	h := newHarness(t, "en", dec18)
	h.fileStraightAway("billender")
	lastTotal := 0
	for h.s.State == StateField {
		q := h.consumer()[len(h.consumer())-1]
		var n, total int
		if _, err := sscanQuestion(q.Text, &n, &total); err != nil {
			t.Fatalf("question without a counter: %q", q.Text)
		}
		if lastTotal != 0 && total > lastTotal {
			t.Fatalf("counter grew from %d to %d: %q", lastTotal, total, q.Text)
		}
		if n > total {
			t.Fatalf("question %d of %d", n, total)
		}
		lastTotal = total
		f, _ := h.policy().Field(h.s.Field)
		if !f.Required {
			h.say("")
			h.want(StateField, "validate.optional_empty")
			if f.ID != h.s.Field {
				t.Fatalf("an empty line moved on from %s", f.ID)
			}
		}
		if f.ID == "wants_compensation" {
			h.press(dataYes)
			continue
		}
		h.answer(goodAnswer(f))
	}
}

func sscanQuestion(text string, n, total *int) (int, error) {
	return fmt.Sscanf(text, "Question %d of %d:", n, total)
}

func TestStatusBeforeAnIssuerIsChosen(t *testing.T) {
	h := newHarness(t, "en", dec18)
	h.cmd(CommandStart, "")
	h.press(dataContinue)
	h.cmd(CommandStatus, "")
	h.want(StateIssuer, "intake.status_draft_no_issuer")
	for _, o := range h.consumer() {
		if strings.Contains(o.Text, " to .") || strings.Contains(o.Text, "to  ") {
			t.Errorf("status names an empty company: %q", o.Text)
		}
	}
}

func TestReminderAfterTheDeadlineSaysNothing(t *testing.T) {
	h := filed(t, "amex-se", "en") // decision due 2027-01-15
	due := h.c.Deadlines[len(h.c.Deadlines)-1]
	h.now = due.Ends.Add(48 * time.Hour)
	h.run(Input{Kind: InputTimer, Case: h.c.ID, Timer: &Timer{Case: h.c.ID, Kind: TimerReminder, Deadline: due.ID, At: h.now}})
	for _, o := range h.agents() {
		if o.Key == "agent.reminder" {
			t.Errorf("reminder after the deadline: %q", o.Text)
		}
	}
	h.now = time.Date(2027, 1, 15, 8, 0, 0, 0, time.UTC)
	h.run(Input{Kind: InputTimer, Case: h.c.ID, Timer: &Timer{Case: h.c.ID, Kind: TimerReminder, Deadline: due.ID, At: h.now}})
	if len(h.agents()) != 1 || !strings.Contains(h.agents()[0].Text, "due today") {
		t.Errorf("reminder on the last day: %s %q", keys(h.out), texts(h.agents()))
	}
}

func TestLanguageIsNeverSwitchedSilently(t *testing.T) {
	h := newHarness(t, "da", dec18)
	h.cmd(CommandStart, "")
	h.press(dataContinue)
	h.press(prefixIssuer + "billender") // offers sv and en
	if h.s.Lang != "en" {
		t.Fatalf("lang = %s, want en", h.s.Lang)
	}
	h.want(StateContacted, "language.switched")

	// The review shows choices in the language of now, whatever language
	// they were picked in.
	h.press(dataNo)
	h.press(dataFile)
	h.cmd(CommandLanguage, "sv")
	for h.s.State == StateField {
		f, _ := h.policy().Field(h.s.Field)
		h.answer(goodAnswer(f))
	}
	if !contains2(h.consumer(), "Lånevillkoren") {
		t.Fatalf("Swedish review lacks the Swedish choice label:\n%s", texts(h.consumer()))
	}
	h.cmd(CommandLanguage, "en")
	h.want(StateReview, "intake.review")
	if contains2(h.consumer(), "Lånevillkoren") || !contains2(h.consumer(), "The loan terms") {
		t.Errorf("English review shows the Swedish label:\n%s", texts(h.consumer()))
	}
}

func TestBreachSpeaksTheLanguageOfItsReader(t *testing.T) {
	h := filed(t, "amex-dk", "da")
	h.cmd(CommandLanguage, "en")
	d := h.c.Deadlines[len(h.c.Deadlines)-1]
	h.now = d.Ends.Add(time.Minute)
	h.run(Input{Kind: InputTimer, Case: h.c.ID, Timer: &Timer{Case: h.c.ID, Kind: TimerDue, Deadline: d.ID, At: h.now}})
	pol := h.policy()
	step, _ := pol.Step(d.Step)
	var en, da string
	for _, pd := range step.Deadlines {
		if pd.ID == d.ID {
			en, da = pd.Label.In("en"), pd.Label.In("da")
		}
	}
	for _, o := range h.out {
		if o.Key != "case.deadline_passed" && o.Key != "agent.deadline_passed" {
			continue
		}
		if !strings.Contains(o.Text, en) || strings.Contains(o.Text, da) {
			t.Errorf("%s %s carries the wrong label: %q", o.To, o.Key, o.Text)
		}
	}
}

func TestCompanyListInTheConsumersLanguage(t *testing.T) {
	h := newHarness(t, "sv", dec18)
	h.cmd(CommandStart, "")
	h.press(dataContinue)
	var labels []string
	for _, row := range h.consumer()[0].Buttons {
		labels = append(labels, row[0].Label)
	}
	list := strings.Join(labels, " | ")
	if strings.Contains(list, "Denmark") || !strings.Contains(list, "American Express Danmark") {
		t.Errorf("Swedish company list: %s", list)
	}
}

func texts(outs []Output) string {
	var b strings.Builder
	for _, o := range outs {
		b.WriteString(o.Key + ": " + o.Text + "\n")
	}
	return b.String()
}

// A file sent where no question takes one is refused with a word, never
// dropped unnoticed: at the review, before a complaint, after a rating.
func TestFilesAreKeptOrRefusedAloud(t *testing.T) {
	file := Input{Kind: InputMessage, Text: "kvitto", Attachment: &Attachment{FileID: "f9", Name: "kvitto.pdf", Size: 100}}
	h := newHarness(t, "en", dec18)
	h.run(file)
	h.want(StatePrivacy, "validate.not_attachment")
	h.fileStraightAway("klarna-dk") // Klarna asks for no files
	for h.s.State == StateField {
		f, _ := h.policy().Field(h.s.Field)
		h.answer(goodAnswer(f))
	}
	h.run(file)
	h.want(StateReview, "validate.not_attachment")

	h = filed(t, "billender", "en")
	h.agent(ActionDecide, OutcomeUpheld, "Refunded.")
	h.agent(ActionClose, "", "")
	h.press(prefixRate + h.c.ID + ":5")
	h.run(file)
	if h.c.RatingComment != "" {
		t.Errorf("a file's caption became the rating comment: %q", h.c.RatingComment)
	}
	var toDesk bool
	for _, o := range h.agents() {
		toDesk = toDesk || (o.Attachment != nil && o.Attachment.Name == "kvitto.pdf")
	}
	if !toDesk {
		t.Errorf("a file sent after the rating did not reach the case: %s", keys(h.out))
	}
}

// A policy owner removing an issuer under a draft: the consumer is told
// and offered the companies there are.
func TestIssuerRemovedUnderADraft(t *testing.T) {
	h := newHarness(t, "en", dec18)
	h.fileStraightAway("klarna-dk")
	edited := editedPolicies(t) // without klarna-dk
	h.e.Policies = func() *policies.Set { return edited }
	h.say("Anna")
	h.want(StateIssuer, "intake.issuer_gone")
	if h.s.Issuer != "" || h.s.Answers != nil {
		t.Errorf("the draft to a removed issuer was kept: %s %v", h.s.Issuer, h.s.Answers)
	}
	if rows := h.consumer()[len(h.consumer())-1].Buttons; len(rows) != 4 {
		t.Errorf("company list after removal has %d rows, want 4", len(rows))
	}
}

// A question asked again after /back offers to keep its answer, so going
// back to look never means typing it again.
func TestKeepTheAnswerAfterBack(t *testing.T) {
	h := newHarness(t, "en", dec18)
	h.fileStraightAway("amex-dk")
	for h.s.Field != "description" {
		f, _ := h.policy().Field(h.s.Field)
		h.answer(goodAnswer(f))
	}
	h.say("I was charged twice for one hotel night in Aarhus.")
	asked := h.s.Field // problem_date
	h.cmd(CommandBack, "")
	if h.s.Field != "description" {
		t.Fatalf("back went to %s", h.s.Field)
	}
	h.press(dataKeepAnswer)
	if h.s.Field != asked || h.s.Answers["description"].Value != "I was charged twice for one hotel night in Aarhus." {
		t.Errorf("keep moved to %s with %+v", h.s.Field, h.s.Answers["description"])
	}
	// Yesterday is a date.
	h.say("yesterday")
	if got := h.s.Answers[asked].Value; got != "2026-12-17" {
		t.Errorf("yesterday = %q, want 2026-12-17", got)
	}
}

// What Ombud cannot take gets one line that says so, and the question
// again; loose answers are refused.
func TestUnsupportedAndLooseAnswers(t *testing.T) {
	h := newHarness(t, "en", dec18)
	h.fileStraightAway("amex-se")
	asked := h.s.Field
	h.run(Input{Kind: InputMessage, Unsupported: "sticker"})
	h.want(StateField, "intake.unsupported")
	if h.s.Field != asked || len(h.consumer()) != 2 {
		t.Errorf("a sticker moved the dialog or was not answered: %s", keys(h.out))
	}
	for h.s.Field != "case_number" {
		f, _ := h.policy().Field(h.s.Field)
		h.answer(goodAnswer(f))
	}
	h.say("31/02/2027")
	h.want(StateField, "validate.reference_date")
	h.say("\u200b\u200b\u2066")
	h.want(StateField, "validate.optional_empty")
	if _, ok := h.s.Answers["case_number"]; ok {
		t.Errorf("a loose answer was taken: %+v", h.s.Answers["case_number"])
	}
	h = filed(t, "billender", "en")
	h.run(Input{Kind: InputMessage, Unsupported: "location"})
	h.want(StateSubmitted, "intake.unsupported")
}
