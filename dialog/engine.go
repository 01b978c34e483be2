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
	// DeskLang is the language of an issuer's agents' desk, in which
	// their messages and case views are written; nil or "" means English.
	DeskLang func(issuer string) string
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
	// LoadCase reads another case of the consumer's, in the same
	// transaction, for /status and the rating of a closed case; nil and no
	// error when there is no such case. Nil LoadCase reads nothing.
	LoadCase func(id string) (*Complaint, error)
}

// PrivacyRequest asks the caller to act on all of a consumer's data, which
// the store holds and the dialog does not.
type PrivacyRequest string

const (
	// PrivacyExport: send the consumer a copy of everything held about them.
	PrivacyExport PrivacyRequest = "export"
	// PrivacyErase: the consumer confirmed the erasure of their data. The
	// caller deletes the conversation and pseudonymises every case of it.
	PrivacyErase PrivacyRequest = "erase"
)

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
	// Privacy is a consumer's request about all their data, if the turn
	// made one.
	Privacy PrivacyRequest
}

// Handle runs one input through the conversation and returns the new state.
// An error is internal (a bug or a failed case-number allocation): the
// caller logs it and sends the consumer the generic localised apology.
func (e *Engine) Handle(ctx context.Context, t Turn, in Input) (Result, error) {
	tn := &turn{
		e:    e,
		ctx:  ctx,
		now:  t.Now,
		in:   in,
		s:    t.Session,
		c:    cloneComplaint(t.Complaint),
		seq:  t.NextCaseNumber,
		load: t.LoadCase,
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
	tn.finish()
	tn.redrawDesk()
	tn.s.UpdatedAt = t.Now
	res := Result{Session: tn.s, Outputs: tn.out, Timers: tn.timers, SetTimers: tn.setTimers, Erase: tn.erase, Privacy: tn.privacy}
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
	e    *Engine
	ctx  context.Context
	now  time.Time
	in   Input
	s    Session
	c    *Complaint
	pol  *policies.Policy
	seq  func(prefix string, year int) (int, error)
	load func(id string) (*Complaint, error)
	out  []Output
	// caseLang, when set, is the language of the turn's messages instead
	// of the conversation's: an agent's or a timer's turn speaks the
	// language of the case it concerns.
	caseLang string
	// keepKeyboard: the turn only informed (/help, /mydata), so the
	// buttons shown before stay in force.
	keepKeyboard bool
	// confirming: the turn asked for a confirmation, now Session.Confirm.
	confirming bool
	privacy    PrivacyRequest
	// began is the question the turn began on; pushed records that it went
	// on the /back stack.
	began       Position
	pushed      bool
	timers      []Timer
	setTimers   bool
	erase       bool
	caseChanged bool
}

// bindPolicy finds the policy the turn works under: the case's for an
// agent, a timer, or a consumer following a filed case; the draft's own
// choice while a complaint is being written, whatever case came before.
// An open case keeps the version it was filed under only in its stored
// dates; its texts come from the policy in force.
func (t *turn) bindPolicy() {
	issuer := t.s.Issuer
	if t.c != nil && (t.in.Kind == InputAgent || t.in.Kind == InputTimer || !isDraft(t.s.State)) {
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
		switch {
		case t.c != nil && t.c.Lang != "":
			t.caseLang = t.c.Lang
		case t.s.Lang != "":
			t.caseLang = t.s.Lang
		default:
			t.caseLang = "en"
		}
		return
	}
	if !t.s.LangChosen && (t.s.Lang == "" || t.s.State == StateNew) {
		t.s.Lang = t.e.Catalog.Match(t.in.Lang)
	}
	t.fitLanguage()
}

// fitLanguage moves the conversation to a language the issuer offers:
// English if offered, else the issuer's first language. It reports
// whether the language changed.
func (t *turn) fitLanguage() bool {
	if t.pol == nil || t.pol.Offers(t.s.Lang) {
		return false
	}
	if t.s.OwnLang == "" {
		t.s.OwnLang = t.s.Lang
	}
	if t.pol.Offers("en") {
		t.s.Lang = "en"
	} else {
		t.s.Lang = t.pol.Languages[0]
	}
	return true
}

// lang is the language of the turn's messages.
func (t *turn) lang() string {
	if t.caseLang != "" {
		return t.caseLang
	}
	return t.s.Lang
}

func (t *turn) pr() *locales.Printer { return t.e.Catalog.Printer(t.lang()) }

func (t *turn) text(id string, data map[string]any) string { return t.pr().Text(id, data) }

// say queues a message to the consumer. A case whose consumer's data is
// erased has nobody left to tell.
func (t *turn) say(key, text string, buttons ...[]Button) {
	if t.caseLang != "" && t.c != nil && t.c.Erased {
		return
	}
	t.out = append(t.out, Output{
		To: ToConsumer, Channel: t.s.Channel, Chat: t.s.Chat, Case: t.aboutCase(),
		Key: key, Text: text, Buttons: buttons,
	})
}

// aboutCase is the case the turn's messages concern: the agent's or the
// timer's, or the one a consumer follows; none while a complaint is
// being written.
func (t *turn) aboutCase() string {
	if t.c == nil || (t.caseLang == "" && t.s.State != StateSubmitted) {
		return ""
	}
	return t.c.ID
}

// sayKey queues a catalog message to the consumer.
func (t *turn) sayKey(key string, data map[string]any, buttons ...[]Button) {
	t.say(key, t.text(key, data), buttons...)
}

// tellAgents queues a message for the agents working the case, written in
// the language of the issuer's desk.
func (t *turn) tellAgents(key string, data map[string]any) {
	t.noticeAgents("", key, data)
}

// noticeAgents is tellAgents for an output that means more to the desk
// than its text.
func (t *turn) noticeAgents(notice Notice, key string, data map[string]any) {
	caseID, issuer := "", ""
	if t.c != nil {
		caseID, issuer = t.c.ID, t.c.Issuer
	}
	t.out = append(t.out, Output{
		To: ToAgents, Channel: t.s.Channel, Chat: t.s.Chat, Case: caseID, Issuer: issuer,
		Notice: notice, Key: key, Text: t.e.deskPrinter(issuer).Text(key, data),
	})
}

// redrawDesk asks the desk to bring the case's summary up to date when the
// turn changed the case but told the agents nothing, which would redraw it
// anyway: after an agent's reply, say, or a rating.
func (t *turn) redrawDesk() {
	if !t.caseChanged || t.c == nil {
		return
	}
	for _, o := range t.out {
		if o.To == ToAgents && o.Case == t.c.ID {
			return
		}
	}
	t.noticeAgents(NoticeRedraw, "agent.header", map[string]any{"Case": t.c.ID})
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
