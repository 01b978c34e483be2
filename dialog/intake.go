package dialog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/looplab/fsm"

	"ombud/policies"
)

// event names a move of the intake.
type event string

// Intake events.
const (
	evGreet          event = "greet"
	evAccept         event = "accept"
	evChooseIssuer   event = "choose_issuer"
	evContactedYes   event = "contacted_yes"
	evContactedNo    event = "contacted_no"
	evFileAnyway     event = "file_anyway"
	evPark           event = "park"
	evFirstComplaint event = "first_complaint_given"
	evPriorAnswer    event = "prior_answer_given"
	evNextField      event = "next_field"
	evReview         event = "review"
	evEdit           event = "edit"
	evSubmit         event = "submit"
	evCancel         event = "cancel"
	evResumeCase     event = "resume_case"
	evIssuerGone     event = "issuer_gone"
)

// Button values of the intake.
const (
	dataContinue = "go"
	dataYes      = "yes"
	dataNo       = "no"
	dataFile     = "file"
	dataLater    = "later"
	dataToday    = "today"
	dataSkip     = "skip"
	dataDone     = "done"
	dataSubmit   = "submit"
	dataCancel   = "cancel"
	// dataKeepAnswer keeps the answer a question has, asked again after
	// /back or from the review.
	dataKeepAnswer = "keep"

	prefixIssuer = "issuer:"
	prefixPrior  = "prior:"
	prefixChoice = "choice:"
	prefixEdit   = "edit:"
	prefixLang   = "lang:"
	prefixRate   = "rate:"
)

// MaxAttachmentBytes is the largest file Ombud accepts: Telegram bots
// cannot download more than 20 MB, so agents could never open a larger one.
const MaxAttachmentBytes = 20 << 20

// maxBack bounds the /back history kept in a session.
const maxBack = 64

// intakeStep is one state of the intake: the question it asks, how it
// reads what the consumer answers there, and where each answer leads.
type intakeStep struct {
	state State
	// draft: a complaint is being written here. /cancel, /back and a
	// return to a filed case leave from these states.
	draft bool
	// question: /back can return here.
	question bool
	ask      func(*turn)       // the state's question, asked on entering it
	answer   func(*turn) error // reads the consumer's input in this state
	next     []move            // the events that leave this state
}

// move is one transition of the intake machine.
type move struct {
	on event
	to State
}

// intakeSteps is the intake. The machine's transitions, each state's
// question and answer, the states that hold a draft and those /back
// returns to all come from this table: adding a step is one entry here,
// with its ask and answer methods.
var intakeSteps = []intakeStep{
	{state: StateNew, ask: (*turn).askWelcomeBack, answer: (*turn).startAfresh},
	{state: StatePrivacy, draft: true, ask: (*turn).askPrivacy, answer: (*turn).answerPrivacy,
		next: []move{{evAccept, StateIssuer}}},
	{state: StateIssuer, draft: true, question: true, ask: (*turn).askIssuer, answer: (*turn).answerIssuer,
		next: []move{{evChooseIssuer, StateContacted}}},
	{state: StateContacted, draft: true, question: true, ask: (*turn).askContacted, answer: (*turn).answerContacted,
		next: []move{{evContactedYes, StateFirstComplaint}, {evContactedNo, StateFirstStep}}},
	{state: StateFirstStep, draft: true, question: true, ask: (*turn).promptFirstStep, answer: (*turn).answerFirstStep,
		next: []move{{evFileAnyway, StateField}, {evPark, StateParked}}},
	{state: StateFirstComplaint, draft: true, question: true, ask: (*turn).askFirstComplaint, answer: (*turn).answerFirstComplaint,
		next: []move{{evFirstComplaint, StatePriorAnswer}}},
	{state: StatePriorAnswer, draft: true, question: true, ask: (*turn).askPriorAnswer, answer: (*turn).answerPriorAnswer,
		next: []move{{evPriorAnswer, StateField}}},
	{state: StateField, draft: true, question: true, ask: (*turn).promptField, answer: (*turn).answerField,
		next: []move{{evNextField, StateField}, {evReview, StateReview}}},
	{state: StateReview, draft: true, question: true, ask: (*turn).promptReview, answer: (*turn).review,
		next: []move{{evEdit, StateEditing}, {evSubmit, StateSubmitted}}},
	{state: StateEditing, draft: true, question: true, ask: (*turn).promptField, answer: (*turn).answerField,
		next: []move{{evNextField, StateField}, {evReview, StateReview}}},
	{state: StateSubmitted, ask: (*turn).status, answer: (*turn).caseMessage},
	{state: StateCancelled, ask: (*turn).askCancelled, answer: (*turn).startAfresh},
	{state: StateParked, ask: (*turn).askParked, answer: (*turn).startAfresh},
}

// Moves open from many states: a new complaint from anywhere, and from
// any draft its cancellation, a return to the filed case it interrupted,
// or the issuer's list when the issuer was removed under it.
var (
	fromAnyState = []move{{evGreet, StatePrivacy}}
	fromAnyDraft = []move{{evCancel, StateCancelled}, {evResumeCase, StateSubmitted}, {evIssuerGone, StateIssuer}}
)

// afresh are the moves /back does not return across: they start anew or
// leave the draft.
var afresh = map[event]bool{evGreet: true, evCancel: true, evSubmit: true, evResumeCase: true, evIssuerGone: true}

// quiet are the moves whose new state's question is not asked: the turn
// says something else instead (filing answers with the receipt).
var quiet = map[event]bool{evSubmit: true}

// stepOf is the table entry of each state, and intakeEvents the intake
// machine; init builds both from the table, whose steps refer back to them.
var (
	stepOf       = map[State]*intakeStep{}
	intakeEvents fsm.Events
)

func init() {
	add := func(from State, m move) {
		intakeEvents = append(intakeEvents, fsm.EventDesc{Name: string(m.on), Src: []string{string(from)}, Dst: string(m.to)})
	}
	for i, step := range intakeSteps {
		stepOf[step.state] = &intakeSteps[i]
		for _, m := range step.next {
			add(step.state, m)
		}
		for _, m := range fromAnyState {
			add(step.state, m)
		}
		if step.draft {
			for _, m := range fromAnyDraft {
				add(step.state, m)
			}
		}
	}
}

// isDraft reports whether a complaint is being written in state.
func isDraft(state State) bool { return stepOf[state] != nil && stepOf[state].draft }

// intakeCallbacks: entering a state asks its question. The turn travels as
// the event's argument, so one machine serves many turns.
var intakeCallbacks = fsm.Callbacks{
	"enter_state": func(_ context.Context, e *fsm.Event) {
		t := e.Args[0].(*turn)
		t.s.State = State(e.Dst)
		if !quiet[event(e.Event)] {
			t.prompt()
		}
	},
}

// intakeMachines recycles intake machines: building one costs far more
// than a turn's own work, and a machine is only its transition table once
// its state is set.
var intakeMachines = sync.Pool{New: func() any { return fsm.NewFSM(string(StateNew), intakeEvents, intakeCallbacks) }}

// fire moves the intake machine. Entering a state asks its question; a
// transition to the same state (the next field) asks too.
func (t *turn) fire(ev event) error {
	from := t.s.State
	m := intakeMachines.Get().(*fsm.FSM)
	defer intakeMachines.Put(m)
	m.SetState(string(from))
	// /back returns to the question this turn answered, once per turn.
	if began := stepOf[t.began.State]; began != nil && began.question && !t.pushed && !afresh[ev] {
		t.pushBack(t.began)
		t.pushed = true
	}
	err := m.Event(t.ctx, string(ev), t)
	var same fsm.NoTransitionError
	if errors.As(err, &same) {
		if !quiet[ev] {
			t.prompt()
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("dialog: intake %s in state %s: %w", ev, from, err)
	}
	return nil
}

// prompt asks the question of the state the conversation is in.
func (t *turn) prompt() {
	if step := stepOf[t.s.State]; step != nil {
		step.ask(t)
	}
}

func (t *turn) pushBack(p Position) {
	t.s.Back = append(t.s.Back, p)
	if len(t.s.Back) > maxBack {
		t.s.Back = t.s.Back[len(t.s.Back)-maxBack:]
	}
}

// handleConsumer runs a consumer's message, button or command.
func (t *turn) handleConsumer() error {
	t.s.Blocked = false // they wrote to us, so they can hear us again
	if t.s.Issuer != "" && t.pol == nil && isDraft(t.s.State) {
		// The policy owner removed the issuer under a draft: its questions
		// are gone, so the draft cannot be finished. Say so, and offer
		// the companies there are.
		t.sayKey("intake.issuer_gone", nil)
		t.s.Issuer, t.s.Field, t.s.Answers, t.s.Back, t.s.Sources = "", "", nil, nil, nil
		return t.fire(evIssuerGone)
	}
	switch t.in.Kind {
	case InputCommand:
		return t.command(t.in.Command, cleanText(t.in.Arg))
	case InputResume:
		t.resume()
		return nil
	case InputChoice:
		value, ok := t.pressed()
		if !ok {
			t.oldButton()
			return nil
		}
		t.in.Data = value
		if done, err := t.anywhereButton(); done {
			return err
		}
	default:
		t.in.Data = "" // only a pressed button carries a value
	}
	if t.in.Unsupported != "" {
		// A sticker, a location, a contact: one line on what can be taken,
		// and the question again.
		t.keepKeyboard = true
		t.sayKey("intake.unsupported", nil)
		t.promptDraft()
		return nil
	}
	text, masked := maskCards(t.in.Text)
	t.in.Text = text
	if masked {
		t.sayKey("validate.card_masked", nil)
	}
	if t.in.Edited {
		return t.applyEdit()
	}
	if t.in.Attachment != nil && isDraft(t.s.State) && !t.asksForFiles() {
		// Only an attachments question or the filed case keeps a file:
		// say so rather than let it go unnoticed.
		t.reprompt(&invalid{key: "validate.not_attachment"})
		return nil
	}

	step := stepOf[t.s.State]
	if step == nil {
		return fmt.Errorf("dialog: unknown intake state %q", t.s.State)
	}
	return step.answer(t)
}

// startAfresh answers a consumer with no complaint in the making: a new
// one begins.
func (t *turn) startAfresh() error {
	t.fileNotKept()
	return t.greet("")
}

func (t *turn) answerPrivacy() error {
	if t.in.Data == dataContinue || yesNo(t.in.Text) == "yes" {
		return t.acceptPrivacy()
	}
	t.prompt()
	return nil
}

func (t *turn) answerIssuer() error {
	id, ok := strings.CutPrefix(t.in.Data, prefixIssuer)
	if !ok && t.in.Data == "" {
		id = t.matchIssuer(cleanText(t.in.Text))
	}
	if !t.chooseIssuer(id) {
		t.reprompt(&invalid{key: "validate.choice"})
		return nil
	}
	return t.fire(evChooseIssuer)
}

func (t *turn) answerContacted() error {
	switch t.yesNoInput() {
	case "yes":
		t.s.Contacted = true
		return t.fire(evContactedYes)
	case "no":
		t.s.Contacted = false
		return t.fire(evContactedNo)
	}
	t.reprompt(&invalid{key: "validate.yes_no"})
	return nil
}

func (t *turn) answerFirstStep() error {
	switch t.in.Data {
	case dataFile:
		t.s.FirstComplaint = t.today()
		t.s.Field = t.firstField()
		return t.fire(evFileAnyway)
	case dataLater:
		return t.fire(evPark)
	}
	t.reprompt(&invalid{key: "validate.choice"})
	return nil
}

func (t *turn) answerFirstComplaint() error {
	d, ok := t.today(), t.in.Data == dataToday
	if !ok {
		d, ok = parseDay(cleanText(t.in.Text), t.today())
	}
	switch {
	case !ok:
		t.reprompt(&invalid{key: "validate.date"})
	case d.After(t.today()):
		t.reprompt(&invalid{key: "validate.date_future"})
	default:
		t.s.FirstComplaint = d
		return t.fire(evFirstComplaint)
	}
	return nil
}

func (t *turn) answerPriorAnswer() error {
	prior, ok := strings.CutPrefix(t.in.Data, prefixPrior)
	if !ok || !validPrior[Prior(prior)] {
		t.reprompt(&invalid{key: "validate.choice"})
		return nil
	}
	t.s.PriorAnswer = Prior(prior)
	t.s.Field = t.firstField()
	return t.fire(evPriorAnswer)
}

var validPrior = map[Prior]bool{PriorNone: true, PriorRejected: true, PriorPartial: true, PriorOther: true}

// yesNoInput reads a yes/no button or a typed yes or no.
func (t *turn) yesNoInput() string {
	if t.in.Data == dataYes || t.in.Data == dataNo {
		return t.in.Data
	}
	return yesNo(t.in.Text)
}

func (t *turn) today() policies.Date {
	if t.pol != nil {
		return t.pol.Clock().LocalDate(t.now)
	}
	return policies.DateOf(t.now, t.now.Location())
}

// greet starts a new complaint: the greeting and privacy notice, with the
// issuer preselected if the consumer came from a link naming it. The
// conversation's filed cases stay where they are.
func (t *turn) greet(issuer string) error {
	t.s.Issuer, t.pol = "", nil
	t.s.Field, t.s.Contacted, t.s.FirstComplaint, t.s.PriorAnswer = "", false, policies.Date{}, ""
	t.s.Answers, t.s.Back, t.s.Sources = nil, nil, nil
	t.ownLanguage()
	if issuer != "" {
		t.chooseIssuer(issuer)
	}
	return t.fire(evGreet)
}

// fileNotKept tells the consumer, in the language of the greeting that
// follows, that a file sent before any complaint was started is not kept.
func (t *turn) fileNotKept() {
	if t.in.Attachment != nil {
		t.ownLanguage()
		t.sayKey("validate.not_attachment", nil)
	}
}

// ownLanguage goes back to the consumer's own language when the last
// issuer moved the conversation to its own: a new complaint starts in it.
func (t *turn) ownLanguage() {
	if t.s.OwnLang != "" {
		t.s.Lang, t.s.OwnLang = t.s.OwnLang, ""
	}
}

// draftStarted reports whether the consumer has written anything into the
// complaint being written that discarding it would lose.
func (t *turn) draftStarted() bool {
	return isDraft(t.s.State) && t.s.State != StatePrivacy && t.s.State != StateIssuer
}

func (t *turn) acceptPrivacy() error {
	if err := t.fire(evAccept); err != nil {
		return err
	}
	if t.s.Issuer != "" { // chosen up front through a link
		return t.fire(evChooseIssuer)
	}
	return nil
}

// chooseIssuer binds the conversation to an issuer's policy, and tells the
// consumer when the issuer's rules are not in their language.
func (t *turn) chooseIssuer(id string) bool {
	p, ok := t.e.Policies().Get(id)
	if !ok || p.Withdrawn { // a withdrawn issuer takes no new complaints
		return false
	}
	t.s.Issuer, t.pol = id, p
	if t.fitLanguage() {
		t.sayKey("language.switched", map[string]any{
			"Issuer": t.issuerName(), "Languages": t.languageNames(p.Languages), "To": t.text("langname."+t.s.Lang, nil)})
	}
	return true
}

// matchIssuer finds an issuer by id, name in any language, or list number.
func (t *turn) matchIssuer(text string) string {
	for i, p := range t.e.Policies().Offered() {
		if strings.EqualFold(text, p.ID) || text == fmt.Sprint(i+1) {
			return p.ID
		}
		for _, name := range p.Name {
			if strings.EqualFold(text, name) {
				return p.ID
			}
		}
	}
	return ""
}

// applicable reports whether field f is asked, given the answers so far.
func (t *turn) applicable(f policies.Field) bool {
	if f.AskIf == nil {
		return true
	}
	return t.s.Answers[f.AskIf.Field].Value == f.AskIf.Equals
}

func (t *turn) firstField() string {
	return t.fieldAfter("")
}

// fieldAfter is the next field to ask after id ("" for the first).
func (t *turn) fieldAfter(id string) string {
	seen := id == ""
	for _, f := range t.pol.Fields {
		if seen && t.applicable(f) {
			return f.ID
		}
		if f.ID == id {
			seen = true
		}
	}
	return ""
}

// missingField is the first applicable required field without an answer,
// as after an edit that opened a follow-up question.
func (t *turn) missingField() string {
	for _, f := range t.pol.Fields {
		if _, answered := t.s.Answers[f.ID]; t.applicable(f) && f.Required && !answered {
			return f.ID
		}
	}
	return ""
}

// asksForFiles reports whether the current question takes files.
func (t *turn) asksForFiles() bool {
	if t.pol == nil || (t.s.State != StateField && t.s.State != StateEditing) {
		return false
	}
	f, ok := t.pol.Field(t.s.Field)
	return ok && f.Type == policies.FieldAttachments
}

// answerField takes the answer to the current field and moves on.
func (t *turn) answerField() error {
	if err := t.requirePolicy(); err != nil {
		return err
	}
	f, ok := t.pol.Field(t.s.Field)
	if !ok { // the policy changed under a draft: start the fields again
		t.s.Field = t.firstField()
		t.prompt()
		return nil
	}
	switch {
	case t.in.Data == dataKeepAnswer:
		if _, answered := t.s.Answers[f.ID]; !answered {
			t.reprompt(&invalid{key: "validate.required"})
			return nil
		}
	case t.in.Data == dataSkip && !f.Required:
		t.setAnswer(f.ID, Answer{Skipped: true})
	case f.Type == policies.FieldAttachments:
		if !t.answerFiles(f) {
			return nil
		}
	default:
		if !t.answerTyped(f) {
			return nil
		}
	}
	return t.advance()
}

// answerFiles takes a file for an attachments question, or Done. It
// reports whether the question is answered; if not, it has said why or
// acknowledged the file.
func (t *turn) answerFiles(f policies.Field) bool {
	if t.in.Attachment != nil && t.in.Attachment.Size > MaxAttachmentBytes {
		t.reprompt(&invalid{key: "validate.file_too_large", data: map[string]any{"MB": MaxAttachmentBytes >> 20}})
		return false
	}
	if t.in.Attachment != nil {
		a := t.s.Answers[f.ID]
		a.Skipped = false // a file now answers what was skipped before
		a.Attachments = append(a.Attachments, *t.in.Attachment)
		a.Value = fmt.Sprint(len(a.Attachments))
		a.Display = attachmentNames(a.Attachments)
		t.setAnswer(f.ID, a)
		t.sayKey("intake.attachment_received", map[string]any{"Name": t.in.Attachment.Name, "Count": len(a.Attachments)},
			[]Button{t.button("button.done", dataDone)})
		return false
	}
	if t.in.Data != dataDone && !strings.EqualFold(cleanText(t.in.Text), t.text("button.done", nil)) {
		t.reprompt(&invalid{key: "validate.attachment"})
		return false
	}
	if len(t.s.Answers[f.ID].Attachments) == 0 && f.Required {
		t.reprompt(&invalid{key: "validate.attachment"})
		return false
	}
	if _, ok := t.s.Answers[f.ID]; !ok {
		t.setAnswer(f.ID, Answer{Skipped: true})
	}
	return true
}

// answerTyped takes a typed or pressed answer to a question that is not
// about files, and reports whether it was taken.
func (t *turn) answerTyped(f policies.Field) bool {
	text := t.in.Text
	if choice, ok := strings.CutPrefix(t.in.Data, prefixChoice); ok {
		text = choice
	} else if t.in.Data == dataYes || t.in.Data == dataNo {
		text = t.in.Data
	}
	if t.in.Attachment != nil {
		// A file with a caption would lose the file: ask for words.
		t.reprompt(&invalid{key: "validate.not_attachment"})
		return false
	}
	if !f.Required && cleanText(text) == "" {
		t.reprompt(&invalid{key: "validate.optional_empty"})
		return false
	}
	a, bad := parseAnswer(f, text, t.today(), t.pr())
	if bad != nil {
		t.reprompt(bad)
		return false
	}
	t.setAnswer(f.ID, a)
	if t.in.Ref != "" {
		if t.s.Sources == nil {
			t.s.Sources = map[string]string{}
		}
		t.s.Sources[t.in.Ref] = f.ID
	}
	return true
}

// advance goes to the next question after the current field.
func (t *turn) advance() error {
	if missing := t.missingField(); missing != "" && t.s.State == StateEditing {
		t.s.Field = missing
		return t.fire(evNextField)
	}
	if t.s.State == StateEditing {
		return t.fire(evReview)
	}
	if next := t.fieldAfter(t.s.Field); next != "" {
		t.s.Field = next
		return t.fire(evNextField)
	}
	return t.fire(evReview)
}

func (t *turn) setAnswer(id string, a Answer) {
	if t.s.Answers == nil {
		t.s.Answers = map[string]Answer{}
	}
	t.s.Answers[id] = a
}

func attachmentNames(as []Attachment) string {
	names := make([]string, len(as))
	for i, a := range as {
		names[i] = a.Name
		if names[i] == "" {
			names[i] = fmt.Sprintf("#%d", i+1)
		}
	}
	return strings.Join(names, ", ")
}

// applyEdit takes a corrected earlier message as a new answer to the field
// it answered, if the complaint is still being written.
func (t *turn) applyEdit() error {
	if t.s.State == StateSubmitted && t.c != nil && !t.c.Erased {
		// Filed: the correction goes to the case, as a message of its own.
		t.in.Text = t.text("case.corrected", map[string]any{"Text": cleanText(t.in.Text)})
		return t.caseMessage()
	}
	id, ok := t.s.Sources[t.in.Ref]
	f, known := policies.Field{}, false
	if ok && t.pol != nil && isDraft(t.s.State) {
		f, known = t.pol.Field(id)
	}
	if !known {
		t.sayKey("intake.edit_ignored", nil)
		t.promptDraft()
		return nil
	}
	a, bad := parseAnswer(f, t.in.Text, t.today(), t.pr())
	if bad != nil {
		t.say("intake.edit_refused", t.text("intake.edit_refused", map[string]any{"Question": f.Prompt.In(t.s.Lang), "Reason": bad.message(t.pr())}))
		return nil
	}
	t.setAnswer(f.ID, a)
	t.sayKey("intake.edit_applied", map[string]any{"Question": f.Prompt.In(t.s.Lang), "Answer": t.answerText(f, a)})
	return nil
}

// review handles the buttons of the review: send, change one answer, cancel.
func (t *turn) review() error {
	if err := t.requirePolicy(); err != nil {
		return err
	}
	switch {
	case t.in.Data == dataSubmit:
		if missing := t.missingField(); missing != "" {
			t.s.Field = missing
			return t.fire(evEdit)
		}
		return t.submit()
	case t.in.Data == dataCancel:
		t.askDiscard(confirmDiscard)
		return nil
	case strings.HasPrefix(t.in.Data, prefixEdit):
		id := strings.TrimPrefix(t.in.Data, prefixEdit)
		if f, ok := t.pol.Field(id); ok && t.applicable(f) {
			t.s.Field = id
			return t.fire(evEdit)
		}
	}
	t.reprompt(&invalid{key: "validate.review"})
	return nil
}

// askCancel answers /cancel: a draft with answers is discarded only once
// the consumer confirms; with nothing written there is nothing to lose.
func (t *turn) askCancel() error {
	switch {
	case t.draftStarted():
		t.askDiscard(confirmDiscard)
	case isDraft(t.s.State) && len(t.s.filed()) > 0:
		return t.cancel() // only the greeting or the issuer list: back to the filed cases
	case isDraft(t.s.State):
		t.sayKey("intake.nothing_to_cancel_yet", nil)
		t.prompt()
	case t.s.State == StateSubmitted:
		t.sayKey("intake.nothing_to_cancel_filed", nil)
	default:
		t.sayKey("intake.nothing_to_cancel", nil)
	}
	return nil
}

// askDiscard asks before a draft is thrown away: for /cancel
// (confirmDiscard) or to start another (confirmNew plus the issuer).
func (t *turn) askDiscard(what string) {
	t.confirm(what, "intake.discard_confirm", map[string]any{"Issuer": t.draftIssuer()},
		t.button("button.discard", dataDiscard), t.button("button.keep_writing", dataKeepDraft))
}

// draftIssuer names the issuer of the complaint being written, or says
// none is chosen yet.
func (t *turn) draftIssuer() string {
	if t.pol == nil {
		return t.text("intake.no_issuer_yet", nil)
	}
	return t.issuerName()
}

// cancel throws the draft away. A conversation with filed cases goes back
// to following them; one without ends here.
func (t *turn) cancel() error {
	t.s.Answers, t.s.Back, t.s.Sources, t.s.Field = nil, nil, nil, ""
	if t.c != nil && !t.c.Erased {
		t.s.Issuer = t.c.Issuer
		t.pol, _ = t.e.Policies().Get(t.c.Issuer)
		t.sayKey("intake.draft_discarded", nil)
		return t.fire(evResumeCase)
	}
	return t.fire(evCancel)
}

// back returns to the previous question, keeping every answer.
func (t *turn) back() {
	if len(t.s.Back) == 0 || !isDraft(t.s.State) {
		t.sayKey("intake.nothing_to_go_back_to", nil)
		t.prompt()
		return
	}
	p := t.s.Back[len(t.s.Back)-1]
	t.s.Back = t.s.Back[:len(t.s.Back)-1]
	for p.Field != "" && !t.asked(p.Field) && len(t.s.Back) > 0 {
		// A question the policy no longer asks, or no longer asks of
		// this consumer: go back past it.
		p = t.s.Back[len(t.s.Back)-1]
		t.s.Back = t.s.Back[:len(t.s.Back)-1]
	}
	t.s.State, t.s.Field = p.State, p.Field
	if p.State == StateIssuer { // choosing again: the list must show
		t.s.Issuer, t.pol = "", nil
	}
	t.prompt()
}

// asked reports whether the policy asks field id of this consumer.
func (t *turn) asked(id string) bool {
	if t.pol == nil {
		return false
	}
	f, ok := t.pol.Field(id)
	return ok && t.applicable(f)
}

// resume asks the current question again, as after a restart.
func (t *turn) resume() {
	if isDraft(t.s.State) {
		t.sayKey("intake.resume", nil)
		t.prompt()
		return
	}
	if t.s.State == StateSubmitted && t.c != nil {
		t.status()
		return
	}
	t.sayKey("intake.welcome_back", nil)
}

func (t *turn) reprompt(v *invalid) {
	t.say(v.key, v.message(t.pr()))
	t.prompt()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
