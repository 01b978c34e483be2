package dialog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"ombud/locales"
	"ombud/policies"
)

// Engine runs conversations. It holds no per-conversation state: every
// turn starts from what the caller loaded and returns what it must save.
type Engine struct {
	// Policies returns the policy set in force (a Registry's Current).
	Policies func() *policies.Set
	Catalog  *locales.Catalog
	// ReminderWorkingDays is how many working days before a deadline the
	// agents are reminded; 0 means 2.
	ReminderWorkingDays int
}

// Turn is the stored state one input works on.
type Turn struct {
	Now time.Time
	// Session is the consumer conversation. For a conversation never seen
	// before it is the zero Session with Channel and Chat set.
	Session Session
	// Complaint is the case the input concerns: the session's case for a
	// consumer input, Input.Case for an agent or timer input; nil if none.
	Complaint *Complaint
	// NextCaseNumber allocates the next case number for a prefix and year,
	// in the same transaction as the turn.
	NextCaseNumber func(prefix string, year int) (int, error)
}

// Result is what a turn changed: everything the caller must save, in one
// transaction, and send.
type Result struct {
	Session Session
	// Complaint is the case to save, if the turn created or changed one.
	Complaint *Complaint
	Outputs   []Output
	// Timers, when SetTimers is true, replace all timers of Complaint.
	Timers    []Timer
	SetTimers bool
	// Erase asks the caller to erase the case's personal data: its
	// retention has ended. The caller holds the rest of the consumer's data.
	Erase bool
}

// Handle runs one input through the conversation and returns the new state.
// An error is internal (a bug or a failed case-number allocation): the
// caller logs it and sends the consumer the generic localised apology.
func (e *Engine) Handle(ctx context.Context, t Turn, in Input) (Result, error) {
	tn := &turn{
		e:   e,
		ctx: ctx,
		now: t.Now,
		in:  in,
		s:   t.Session,
		c:   cloneComplaint(t.Complaint),
		seq: t.NextCaseNumber,
	}
	if tn.s.State == "" {
		tn.s.State = StateNew
	}
	if tn.s.Channel == "" {
		tn.s.Channel, tn.s.Chat = in.Channel, in.Chat
	}
	tn.began = Position{State: tn.s.State, Field: tn.s.Field}
	tn.bindPolicy()
	tn.pickLanguage()

	var err error
	switch in.Kind {
	case InputAgent:
		err = tn.handleAgent()
	case InputTimer:
		err = tn.handleTimer()
	default:
		err = tn.handleConsumer()
	}
	if err != nil {
		return Result{}, err
	}
	tn.s.UpdatedAt = t.Now
	res := Result{Session: tn.s, Outputs: tn.out, Timers: tn.timers, SetTimers: tn.setTimers, Erase: tn.erase}
	if tn.caseChanged {
		res.Complaint = tn.c
	}
	return res, nil
}

// InternalErrorOutput is the one sentence a consumer sees when a turn
// failed inside Ombud.
func (e *Engine) InternalErrorOutput(s Session, in Input) Output {
	lang := s.Lang
	if lang == "" {
		lang = e.Catalog.Match(in.Lang)
	}
	return Output{
		To: ToConsumer, Channel: in.Channel, Chat: in.Chat,
		Key: "error.internal", Text: e.Catalog.Printer(lang).Text("error.internal", nil),
	}
}

// turn is the working state of one Handle call.
type turn struct {
	e   *Engine
	ctx context.Context
	now time.Time
	in  Input
	s   Session
	c   *Complaint
	pol *policies.Policy
	seq func(prefix string, year int) (int, error)
	out []Output
	// began is the question the turn began on; pushed records that it went
	// on the /back stack.
	began       Position
	pushed      bool
	timers      []Timer
	setTimers   bool
	erase       bool
	caseChanged bool
}

// bindPolicy finds the policy the conversation or case is under. An open
// case keeps the version it was filed under only in its stored dates; its
// texts come from the policy in force.
func (t *turn) bindPolicy() {
	issuer := t.s.Issuer
	if t.c != nil {
		issuer = t.c.Issuer
	}
	if issuer == "" {
		return
	}
	if p, ok := t.e.Policies().Get(issuer); ok {
		t.pol = p
	}
}

// pickLanguage sets the conversation's language: the consumer's choice if
// they made one, else the platform's language code, limited to what the
// issuer offers.
func (t *turn) pickLanguage() {
	if t.in.Kind == InputAgent || t.in.Kind == InputTimer {
		if t.s.Lang == "" && t.c != nil {
			t.s.Lang = t.c.Lang
		}
		return
	}
	if !t.s.LangChosen && (t.s.Lang == "" || t.s.State == StateNew) {
		t.s.Lang = t.e.Catalog.Match(t.in.Lang)
	}
	t.fitLanguage()
}

// fitLanguage moves the conversation to a language the issuer offers:
// English if offered, else the issuer's first language.
func (t *turn) fitLanguage() {
	if t.pol == nil || t.pol.Offers(t.s.Lang) {
		return
	}
	if t.pol.Offers("en") {
		t.s.Lang = "en"
	} else {
		t.s.Lang = t.pol.Languages[0]
	}
}

func (t *turn) pr() *locales.Printer { return t.e.Catalog.Printer(t.s.Lang) }

func (t *turn) text(id string, data map[string]any) string { return t.pr().Text(id, data) }

// say queues a message to the consumer.
func (t *turn) say(key, text string, buttons ...[]Button) {
	t.out = append(t.out, Output{
		To: ToConsumer, Channel: t.s.Channel, Chat: t.s.Chat, Case: t.s.Case,
		Key: key, Text: text, Buttons: buttons,
	})
}

// sayKey queues a catalog message to the consumer.
func (t *turn) sayKey(key string, data map[string]any, buttons ...[]Button) {
	t.say(key, t.text(key, data), buttons...)
}

// tellAgents queues a message for the agents working the case, written in
// the language the operators chose for their desk (English for now).
func (t *turn) tellAgents(key string, data map[string]any) {
	caseID, issuer := "", ""
	if t.c != nil {
		caseID, issuer = t.c.ID, t.c.Issuer
	}
	t.out = append(t.out, Output{
		To: ToAgents, Channel: t.s.Channel, Chat: t.s.Chat, Case: caseID, Issuer: issuer,
		Key: key, Text: t.e.Catalog.Printer("en").Text(key, data),
	})
}

// tellAgentsFile queues a consumer's file for the agents' desk.
func (t *turn) tellAgentsFile(a Attachment) {
	t.tellAgents("agent.attachment", map[string]any{"Case": t.c.ID, "Name": a.Name})
	t.out[len(t.out)-1].Attachment = &a
}

func (t *turn) button(key, data string) Button {
	return Button{Label: t.text(key, nil), Data: data}
}

func cloneComplaint(c *Complaint) *Complaint {
	if c == nil {
		return nil
	}
	cp := *c
	cp.Answers = append([]FiledAnswer(nil), c.Answers...)
	cp.Deadlines = append([]CaseDeadline(nil), c.Deadlines...)
	cp.History = append([]Event(nil), c.History...)
	if c.Decision != nil {
		d := *c.Decision
		cp.Decision = &d
	}
	return &cp
}

// errNoPolicy means a conversation refers to an issuer no longer in the set.
var errNoPolicy = errors.New("dialog: issuer has no policy")

func (t *turn) requirePolicy() error {
	if t.pol == nil {
		return fmt.Errorf("%w: %q", errNoPolicy, t.s.Issuer)
	}
	return nil
}
