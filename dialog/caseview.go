package dialog

import (
	"time"

	"ombud/policies"
)

// CaseView is a case as the agents' desk shows it. The dialog decides
// everything in it (which date binds, how much time is left, what an agent
// may do next) and words it in the desk's language; a desk only lays it
// out.
type CaseView struct {
	ID string
	// IssuerID is the issuer's policy id; Issuer its name in the desk's
	// language.
	IssuerID string
	Issuer   string
	// Lang is the desk's language, which the view's words are in.
	Lang string
	// ConsumerLang is the consumer's language: agents write to them in it.
	ConsumerLang string
	Status       CaseStatus
	// StatusText is the status in words, with who claimed or decided it.
	StatusText    string
	Received      policies.Date
	PolicyVersion string
	Deadlines     []DeadlineView
	Answers       []AnswerView
	// Actions are what an agent can do on the case now, in the order a
	// desk offers them.
	Actions []Action
	// Erased: the consumer's data is gone; only the register's part is left.
	Erased bool
}

// DeadlineView is one date that binds the issuer.
type DeadlineView struct {
	Label string
	Due   policies.Date
	// Extended is the later date a holding reply brings, if the policy
	// allows one; ExtendedInForce is set once a holding reply was sent.
	Extended        *policies.Date
	ExtendedInForce bool
	// Left is the time left in words ("3 working days left", "due today",
	// "missed", "met"); Missed flags a deadline passed unmet.
	Left   string
	Missed bool
	Met    bool
}

// AnswerView is one of the consumer's answers, with the question in the
// desk's language where the policy still has it.
type AnswerView struct {
	Question string
	Answer   string
}

// deskLang is the language of the issuer's desk.
func (e *Engine) deskLang(issuer string) string {
	if e.DeskLang != nil {
		if lang := e.DeskLang(issuer); lang != "" {
			return lang
		}
	}
	return "en"
}

// CaseView is c as the desk of its issuer shows it at now.
func (e *Engine) CaseView(c Complaint, now time.Time) CaseView {
	lang := e.deskLang(c.Issuer)
	pr := e.Catalog.Printer(lang)
	pol, _ := e.Policies().Get(c.Issuer)
	v := CaseView{
		ID: c.ID, IssuerID: c.Issuer, Issuer: c.Issuer, Lang: lang, ConsumerLang: c.Lang, Status: c.Status,
		Received: c.ReceivedDate, PolicyVersion: c.PolicyVersion, Actions: c.Status.Actions(), Erased: c.Erased,
	}
	if pol != nil {
		v.Issuer = pol.Name.In(lang)
	}
	v.StatusText = pr.Text("status."+string(c.Status), nil)
	if c.ClaimedBy != "" {
		v.StatusText += " · " + pr.Text("desk.claimed_by", map[string]any{"Agent": c.ClaimedBy})
	}
	if c.Decision != nil {
		v.StatusText += " · " + pr.Text("desk.decided_by", map[string]any{
			"Outcome": pr.Text("outcome."+string(c.Decision.Outcome), nil), "Agent": c.Decision.By})
	}
	for _, d := range c.Deadlines {
		dv := DeadlineView{Label: deadlineLabel(pol, d, lang), Due: d.Due, Extended: d.Extended,
			ExtendedInForce: d.Extended != nil && c.ExtendedReason != "", Met: d.Met}
		switch n, _ := c.Left(d, pol, now); {
		case d.Met:
			dv.Left = pr.Text("desk.met", nil)
		case d.Breached || n < 0:
			dv.Left, dv.Missed = pr.Text("desk.missed", nil), true
		default:
			dv.Left = leftText(pr, c, d, pol, now)
		}
		v.Deadlines = append(v.Deadlines, dv)
	}
	for _, a := range c.Answers {
		q := a.Question
		if pol != nil {
			if f, ok := pol.Field(a.Field); ok {
				q = f.Prompt.In(lang)
			}
		}
		v.Answers = append(v.Answers, AnswerView{Question: q, Answer: a.Display})
	}
	return v
}

// Actions are what an agent can do on a case in status s, as the case
// machine allows: claiming is also a handover while the case is open.
func (s CaseStatus) Actions() []Action {
	allowed := map[caseEvent]bool{}
	for _, m := range caseMoves {
		for _, from := range m.from {
			if from == s {
				allowed[m.on] = true
			}
		}
	}
	var out []Action
	for _, a := range []struct {
		action Action
		on     caseEvent
	}{{ActionClaim, evClaim}, {ActionExtend, evExtend}, {ActionDecide, evDecide}, {ActionClose, evClose}, {ActionReopen, evReopen}} {
		if allowed[a.on] || (a.action == ActionClaim && s.Open()) {
			out = append(out, a.action)
		}
	}
	return out
}
