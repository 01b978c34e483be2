package dialog

import (
	"math"
	"slices"
	"time"

	"ombud/policies"
)

// CaseStatus is where a filed complaint stands.
type CaseStatus string

// Case states. A complaint moves through them after it is filed.
const (
	CaseSubmitted    CaseStatus = "submitted"
	CaseAcknowledged CaseStatus = "acknowledged"
	CaseInProgress   CaseStatus = "in_progress" // claimed by an agent
	CaseExtended     CaseStatus = "extended"    // holding reply sent; the later date binds
	CaseDecided      CaseStatus = "decided"
	CaseClosed       CaseStatus = "closed"
)

// Open reports whether the issuer has still to decide a case in status s.
func (s CaseStatus) Open() bool { return slices.Contains(openStatuses, s) }

// CaseStatuses lists every status, in the order of a case's life.
func CaseStatuses() []CaseStatus {
	return []CaseStatus{CaseSubmitted, CaseAcknowledged, CaseInProgress, CaseExtended, CaseDecided, CaseClosed}
}

// Complaint is one filed case: what the consumer said, under which policy,
// the dates that bind the issuer and everything that happened since.
type Complaint struct {
	ID            string     `json:"id"` // the case number, such as AXSE-2026-000123
	Issuer        string     `json:"issuer"`
	PolicyVersion string     `json:"policy_version"`
	Channel       string     `json:"channel"`
	Chat          string     `json:"chat"`
	Lang          string     `json:"lang"`
	Status        CaseStatus `json:"status"`

	ReceivedAt     time.Time     `json:"received_at"`
	ReceivedDate   policies.Date `json:"received_date"`
	Contacted      bool          `json:"contacted"`
	FirstComplaint policies.Date `json:"first_complaint"`
	PriorAnswer    Prior         `json:"prior_answer,omitempty"`
	Answers        []FiledAnswer `json:"answers"`
	// Product and Cause are the register's categories: the choice ids of
	// the policy's fields marked register: product and register: cause.
	// They are no personal data and outlive an erasure.
	Product string `json:"product,omitempty"`
	Cause   string `json:"cause,omitempty"`

	// Deadlines are the issuer's dates, computed once at filing and never
	// moved by a later policy change.
	Deadlines []CaseDeadline `json:"deadlines"`

	ClaimedBy      string    `json:"claimed_by,omitempty"`
	HumanOwned     bool      `json:"human_owned,omitempty"` // an agent claimed or answered: the bot stays quiet
	ExtendedReason string    `json:"extended_reason,omitempty"`
	Decision       *Decision `json:"decision,omitempty"`
	History        []Event   `json:"history"`
	// Rating is the consumer's 1-5 answer to "how did we do" after the
	// case closed, with an optional comment.
	Rating        int    `json:"rating,omitempty"`
	RatingComment string `json:"rating_comment,omitempty"`
	// Erased: the consumer's personal data is gone; the rest is kept for
	// the issuer's complaints register.
	Erased bool `json:"erased,omitempty"`
}

// FiledAnswer is one answer as filed, with the question it answered.
type FiledAnswer struct {
	Field       string       `json:"field"`
	Question    string       `json:"question"`
	Value       string       `json:"value"`
	Display     string       `json:"display"`
	Attachments []Attachment `json:"attachments,omitempty"`
}

// DeadlineKind says what meets a deadline.
type DeadlineKind string

// Deadline kinds of a case.
const (
	// DeadlineAnswer is met by any answer from the issuer: an
	// acknowledgement, a reply, a holding reply or a decision.
	DeadlineAnswer DeadlineKind = "answer"
	// DeadlineDecision is met only by a decision.
	DeadlineDecision DeadlineKind = "decision"
)

// CaseDeadline is one issuer deadline of a case, computed at filing.
type CaseDeadline struct {
	Step   string        `json:"step"`
	ID     string        `json:"id"`
	Kind   DeadlineKind  `json:"kind"`
	Label  string        `json:"label"` // in the consumer's language
	Due    policies.Date `json:"due"`
	Ends   time.Time     `json:"ends"`
	ByHour bool          `json:"by_hour,omitempty"`
	// Extended and ExtendedEnds are the later date that applies once the
	// issuer has sent a holding reply; nil when the policy allows none.
	Extended     *policies.Date `json:"extended,omitempty"`
	ExtendedEnds *time.Time     `json:"extended_ends,omitempty"`
	Met          bool           `json:"met,omitempty"`
	Breached     bool           `json:"breached,omitempty"`
	// Unit and ExtendedUnit are what the periods count: working_days,
	// calendar_days, hours or years. Empty in cases filed before they were
	// kept: working days, or hours when ByHour.
	Unit         policies.Unit `json:"unit,omitempty"`
	ExtendedUnit policies.Unit `json:"extended_unit,omitempty"`
}

// Left is how much time deadline d of the case has left at now, in the
// deadline's own unit: working days counted on pol's calendar, calendar
// days, or hours, rounded up; 0 on the last day (or in the last hour's
// part), negative once it has passed. pol may be nil for calendar days and
// hours; working days then count as calendar days.
func (c Complaint) Left(d CaseDeadline, pol *policies.Policy, now time.Time) (n int, unit policies.Unit) {
	due, ends := c.activeEnds(d)
	unit = d.Unit
	if c.ExtendedReason != "" && d.Extended != nil && d.ExtendedUnit != "" {
		unit = d.ExtendedUnit
	}
	switch {
	case unit == policies.UnitHours || (unit == "" && d.ByHour):
		if !now.Before(ends) {
			return -1, policies.UnitHours
		}
		return int(math.Ceil(ends.Sub(now).Hours())), policies.UnitHours
	case unit == policies.UnitCalendarDays || unit == policies.UnitYears || pol == nil:
		today := policies.DateOf(now, time.UTC)
		if pol != nil {
			today = pol.Clock().LocalDate(now)
		}
		return int(due.Time(time.UTC).Sub(today.Time(time.UTC)).Hours() / 24), policies.UnitCalendarDays
	}
	return pol.Clock().WorkingDaysLeft(now, due), policies.UnitWorkingDays
}

// Decision is the issuer's answer to the complaint.
type Decision struct {
	Outcome Outcome   `json:"outcome"`
	Text    string    `json:"text"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// EventKind says what an entry of a case's history records.
type EventKind string

// History entries.
const (
	EventSubmitted EventKind = "submitted" // the consumer filed the case
	EventConsumer  EventKind = "consumer"  // the consumer wrote to the filed case
	EventReply     EventKind = "reply"     // an agent answered the consumer
	EventNote      EventKind = "note"      // an agent's internal note
	EventClaim     EventKind = "claim"     // an agent took the case
	EventExtend    EventKind = "extend"    // a holding reply: the later date binds
	EventDecide    EventKind = "decide"    // the issuer's decision
	EventClose     EventKind = "close"
	EventReopen    EventKind = "reopen"
	EventDue       EventKind = "due"    // a deadline passed unmet
	EventErased    EventKind = "erased" // the consumer's data was erased
)

// Event is one entry of a case's history, for agents and the register.
type Event struct {
	At   time.Time `json:"at"`
	Kind EventKind `json:"kind"`
	By   string    `json:"by,omitempty"`
	Text string    `json:"text,omitempty"`
}
