package dialog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/looplab/fsm"
)

// caseEvent names a move in a case's life.
type caseEvent string

// Case events.
const (
	evAcknowledge caseEvent = "acknowledge"
	evClaim       caseEvent = "claim"
	evExtend      caseEvent = "extend"
	evDecide      caseEvent = "decide"
	evClose       caseEvent = "close"
	evReopen      caseEvent = "reopen"
)

// openStatuses are the statuses of a case the issuer still has to decide.
var openStatuses = []CaseStatus{CaseSubmitted, CaseAcknowledged, CaseInProgress, CaseExtended}

// caseMoves is the life of a complaint after filing: the only way its
// status changes.
var caseMoves = []struct {
	on   caseEvent
	from []CaseStatus
	to   CaseStatus
}{
	{evAcknowledge, []CaseStatus{CaseSubmitted}, CaseAcknowledged},
	{evClaim, []CaseStatus{CaseSubmitted, CaseAcknowledged}, CaseInProgress},
	{evExtend, []CaseStatus{CaseSubmitted, CaseAcknowledged, CaseInProgress}, CaseExtended},
	{evDecide, openStatuses, CaseDecided},
	{evClose, append([]CaseStatus{CaseDecided}, openStatuses...), CaseClosed},
	{evReopen, []CaseStatus{CaseDecided, CaseClosed}, CaseInProgress},
}

// caseEvents is the case machine, built from caseMoves.
var caseEvents = func() fsm.Events {
	var evs fsm.Events
	for _, m := range caseMoves {
		src := make([]string, len(m.from))
		for i, s := range m.from {
			src[i] = string(s)
		}
		evs = append(evs, fsm.EventDesc{Name: string(m.on), Src: src, Dst: string(m.to)})
	}
	return evs
}()

// caseCallbacks record every state change in the case of the turn that
// travels as the event's argument.
var caseCallbacks = fsm.Callbacks{
	"enter_state": func(_ context.Context, e *fsm.Event) {
		t := e.Args[0].(*turn)
		t.c.Status = CaseStatus(e.Dst)
		t.caseChanged = true
	},
}

// caseMachines recycles case machines, as intakeMachines does.
var caseMachines = sync.Pool{New: func() any { return fsm.NewFSM(string(CaseSubmitted), caseEvents, caseCallbacks) }}

// move fires a case event; it reports false, and tells the agents, when
// the case's state does not allow it.
func (t *turn) move(event caseEvent) (bool, error) {
	m := caseMachines.Get().(*fsm.FSM)
	defer caseMachines.Put(m)
	m.SetState(string(t.c.Status))
	err := m.Event(t.ctx, string(event), t)
	var invalidEvent fsm.InvalidEventError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &invalidEvent):
		t.tellAgents("agent.invalid_action", map[string]any{
			"Case": t.c.ID, "Action": t.in.Agent.Action, "Status": t.c.Status})
		return false, nil
	}
	return false, fmt.Errorf("dialog: case %s event %s: %w", t.c.ID, event, err)
}

// unnamedAgent is who the history names when the desk could not say
// which agent acted.
const unnamedAgent = "agent"

// handleAgent runs an agent's action on a case.
func (t *turn) handleAgent() error {
	a := t.in.Agent
	if t.c == nil || a == nil {
		t.tellAgents("agent.unknown_case", map[string]any{"Case": t.in.Case})
		return nil
	}
	a.Text = cleanText(a.Text)
	if masked, ok := maskCards(a.Text); ok {
		a.Text = masked
	}
	if t.c.Erased && a.Action != ActionNote && a.Action != ActionClose {
		// Nobody is left to answer; the register keeps the case as it is.
		t.tellAgents("agent.case_erased", map[string]any{"Case": t.c.ID, "Action": a.Action})
		return nil
	}
	if a.Agent == "" {
		a.Agent = unnamedAgent
	}
	if a.Action == ActionReply && isInternal(a.Text) {
		a.Action = ActionNote // agents mark internal notes this way in their thread
	}
	run, ok := agentActions[a.Action]
	if !ok {
		t.tellAgents("agent.unknown_action", map[string]any{"Action": a.Action})
		return nil
	}
	return run(t, a)
}

// agentActions are what an agent can do on a case.
var agentActions = map[Action]func(*turn, *AgentAction) error{
	ActionNote:   (*turn).agentNote,
	ActionReply:  (*turn).agentReply,
	ActionClaim:  (*turn).agentClaim,
	ActionExtend: (*turn).agentExtend,
	ActionDecide: (*turn).agentDecide,
	ActionClose:  (*turn).agentClose,
	ActionReopen: (*turn).agentReopen,
}

// record adds the agent's action to the case's history.
func (t *turn) record(kind EventKind, a *AgentAction) {
	t.c.History = append(t.c.History, Event{At: t.now.UTC(), Kind: kind, By: a.Agent, Text: a.Text})
	t.caseChanged = true
}

// needText tells the agents an action needs a text, if it has none.
func (t *turn) needText(a *AgentAction) bool {
	if a.Text == "" {
		t.tellAgents("agent.text_required", map[string]any{"Case": t.c.ID, "Action": a.Action})
		return false
	}
	return true
}

func (t *turn) agentNote(a *AgentAction) error {
	if !t.needText(a) {
		return nil
	}
	t.record(EventNote, a)
	t.tellAgents("agent.note_saved", map[string]any{"Case": t.c.ID})
	return nil
}

func (t *turn) agentReply(a *AgentAction) error {
	if !t.needText(a) {
		return nil
	}
	if t.c.Status == CaseClosed {
		t.tellAgents("agent.case_closed", map[string]any{"Case": t.c.ID})
		return nil
	}
	if t.c.Status == CaseSubmitted {
		if _, err := t.move(evAcknowledge); err != nil {
			return err
		}
	}
	t.record(EventReply, a)
	t.answered()
	t.follow()
	t.sayKey("case.agent_reply", map[string]any{"Agent": t.signature(a.Agent), "Issuer": t.issuerName(), "Case": t.c.ID, "Text": a.Text})
	t.out[len(t.out)-1].Receipt = t.in.Ref
	return nil
}

func (t *turn) agentClaim(a *AgentAction) error {
	if t.c.Status != CaseInProgress && t.c.Status != CaseExtended { // else a handover: the state stays
		if ok, err := t.move(evClaim); !ok {
			return err
		}
	}
	t.c.ClaimedBy = a.Agent
	t.record(EventClaim, a)
	t.answered()
	t.sayKey("case.claimed", map[string]any{"Agent": t.signature(a.Agent), "Case": t.c.ID})
	t.tellAgents("agent.claimed", map[string]any{"Case": t.c.ID, "Agent": a.Agent})
	return nil
}

func (t *turn) agentExtend(a *AgentAction) error {
	if !t.needText(a) {
		return nil
	}
	decision, ok := t.decisionDeadline()
	if !ok || decision.Extended == nil {
		t.tellAgents("agent.no_extension", map[string]any{"Case": t.c.ID})
		return nil
	}
	late := t.now.After(decision.Ends)
	if ok, err := t.move(evExtend); !ok {
		return err
	}
	t.c.ExtendedReason = a.Text
	t.record(EventExtend, a)
	t.answered()
	t.follow()
	t.sayKey("case.extended", map[string]any{"Case": t.c.ID, "Reason": a.Text, "Date": t.day(*decision.Extended)})
	t.tellAgents("agent.extended", map[string]any{"Case": t.c.ID, "Date": decision.Extended.String()})
	if late {
		t.tellAgents("agent.extended_late", map[string]any{"Case": t.c.ID, "Date": decision.Due.String()})
	}
	return nil
}

func (t *turn) agentDecide(a *AgentAction) error {
	if a.Outcome != OutcomeUpheld && a.Outcome != OutcomePartial && a.Outcome != OutcomeRejected {
		t.tellAgents("agent.outcome_required", map[string]any{"Case": t.c.ID})
		return nil
	}
	if !t.needText(a) {
		return nil
	}
	if ok, err := t.move(evDecide); !ok {
		return err
	}
	t.c.Decision = &Decision{Outcome: a.Outcome, Text: a.Text, By: a.Agent, At: t.now.UTC()}
	t.c.HumanOwned = true
	for i := range t.c.Deadlines {
		t.c.Deadlines[i].Met = true
	}
	t.record(EventDecide, a)
	t.refreshTimers()
	t.follow()
	msg := t.text("case.decided."+string(a.Outcome), map[string]any{"Case": t.c.ID, "Agent": t.signature(a.Agent), "Issuer": t.issuerName(), "Text": a.Text})
	if a.Outcome != OutcomeUpheld {
		msg += "\n\n" + t.nextSteps()
	}
	t.say("case.decided."+string(a.Outcome), msg)
	t.tellAgents("agent.decided", map[string]any{"Case": t.c.ID, "Outcome": a.Outcome})
	return nil
}

func (t *turn) agentClose(a *AgentAction) error {
	if ok, err := t.move(evClose); !ok {
		return err
	}
	t.record(EventClose, a)
	t.refreshTimers()
	t.retain()
	t.sayKey("case.closed", map[string]any{"Case": t.c.ID})
	if t.c.Rating == 0 {
		var row []Button
		for n := 1; n <= 5; n++ {
			row = append(row, Button{Label: fmt.Sprint(n), Data: fmt.Sprintf("%s%s:%d", prefixRate, t.c.ID, n)})
		}
		t.sayKey("case.rate", nil, row)
	}
	return nil
}

func (t *turn) agentReopen(a *AgentAction) error {
	if ok, err := t.move(evReopen); !ok {
		return err
	}
	t.record(EventReopen, a)
	t.refreshTimers()
	t.sayKey("case.reopened", map[string]any{"Case": t.c.ID})
	return nil
}

// follow turns the consumer's conversation to this case when an agent
// writes on it, so that their answer goes where the agent asked. A
// complaint being written stays as it is.
func (t *turn) follow() {
	if t.s.State == StateSubmitted && t.s.Case != t.c.ID && contains(t.s.filed(), t.c.ID) {
		t.s.Case, t.s.Issuer = t.c.ID, t.c.Issuer
	}
}

// answered marks that a human owns the case and that deadlines asking only
// for an answer, such as an acknowledgement, are met.
func (t *turn) answered() {
	t.c.HumanOwned = true
	for i, d := range t.c.Deadlines {
		if d.Kind == DeadlineAnswer {
			t.c.Deadlines[i].Met = true
		}
	}
	t.caseChanged = true
	t.refreshTimers()
}

func (t *turn) decisionDeadline() (CaseDeadline, bool) {
	for _, d := range t.c.Deadlines {
		if d.Kind == DeadlineDecision {
			return d, true
		}
	}
	return CaseDeadline{}, false
}

// handleTimer runs a deadline timer: a reminder for the agents, or, when a
// deadline passes unmet, an alert for them and the consumer's next steps.
func (t *turn) handleTimer() error {
	tm := t.in.Timer
	if tm != nil && tm.Kind == TimerPurge {
		// Only a case still closed: one reopened after the timer was
		// queued keeps its data.
		t.erase = t.c != nil && t.c.Status == CaseClosed && !t.c.Erased
		return nil
	}
	if t.c == nil || tm == nil || !t.c.open() {
		return nil // decided, closed or erased since the timer was set
	}
	if tm.Kind == TimerRefresh {
		t.noticeAgents(NoticeRedraw, "agent.header", map[string]any{"Case": t.c.ID})
		t.refreshTimers()
		return nil
	}
	idx := -1
	for i, d := range t.c.Deadlines {
		if d.ID == tm.Deadline {
			idx = i
		}
	}
	if idx < 0 || t.c.Deadlines[idx].Met || t.c.Deadlines[idx].Breached {
		return nil
	}
	d := t.c.Deadlines[idx]
	due, ends := t.c.activeEnds(d)
	agentLabel := deadlineLabel(t.pol, d, t.e.deskLang(t.c.Issuer))
	switch tm.Kind {
	case TimerReminder:
		if t.pol == nil || !t.now.Before(ends) {
			break // late, as after downtime: the deadline's own timer reports it
		}
		t.noticeAgents(NoticeReminder, "agent.reminder", map[string]any{"Case": t.c.ID, "Label": agentLabel, "Date": due.String(),
			"Left": leftText(t.e.deskPrinter(t.c.Issuer), *t.c, d, t.pol, t.now)})
	case TimerDue:
		if t.now.Before(ends) {
			return nil // the deadline moved (extended) after this timer was set
		}
		t.c.Deadlines[idx].Breached = true
		t.c.History = append(t.c.History, Event{At: t.now.UTC(), Kind: EventDue, By: "ombud", Text: d.ID})
		t.caseChanged = true
		msg := t.text("case.deadline_passed", map[string]any{"Issuer": t.issuerName(), "Case": t.c.ID, "Label": deadlineLabel(t.pol, d, t.lang()), "Date": t.day(due)})
		if d.Kind == DeadlineDecision {
			msg += "\n\n" + t.nextSteps()
		}
		t.say("case.deadline_passed", msg)
		t.noticeAgents(NoticeBreach, "agent.deadline_passed", map[string]any{"Case": t.c.ID, "Label": agentLabel, "Date": due.String()})
	}
	t.refreshTimers()
	return nil
}

// isInternal reports whether an agent's text is marked as an internal note,
// which must never reach the consumer.
func isInternal(text string) bool {
	lower := strings.ToLower(strings.TrimSpace(text))
	return strings.HasPrefix(lower, "note:") || strings.HasPrefix(lower, "//")
}

// signature is how an agent is named to the consumer: the issuer's team
// name when the policy sets one, else the agent's own name. The case keeps
// the agent's own name either way.
func (t *turn) signature(agent string) string {
	if t.pol != nil {
		if team := t.pol.AgentName.In(t.lang()); team != "" {
			return team
		}
	}
	if agent == "" || agent == unnamedAgent {
		return t.text("desk.agent", nil)
	}
	return agent
}

// retain sets the timer that erases a closed case's personal data when the
// policy's retention ends.
func (t *turn) retain() {
	if t.pol == nil || t.pol.Retention == nil {
		return
	}
	clock := t.pol.Clock()
	end := clock.DueFromDate(clock.LocalDate(t.now), *t.pol.Retention)
	t.timers = append(t.timers, Timer{Case: t.c.ID, Kind: TimerPurge, Deadline: "retention", At: end.Ends.UTC()})
	t.setTimers = true
}
