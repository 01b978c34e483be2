package dialog

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"ombud/policies"
)

// OnTime says whether the issuer decided within the date in force.
type OnTime string

const (
	OnTimeYes  OnTime = "yes"
	OnTimeNo   OnTime = "no"
	OnTimeOpen OnTime = "open" // undecided, and not late yet
	// OnTimeNoDecision: closed without a decision.
	OnTimeNoDecision OnTime = "closed without a decision"
)

// RegisterRow is one complaint as the issuer's complaints register shows
// it: what Finansinspektionen and the EU guidelines expect a firm to keep.
type RegisterRow struct {
	Case           string     `json:"case"`
	Issuer         string     `json:"issuer"`
	Channel        string     `json:"channel"`
	ReceivedAt     time.Time  `json:"received_at"`
	ReceivedDate   string     `json:"received_date"`
	FirstComplaint string     `json:"first_complaint"`
	Status         CaseStatus `json:"status"`
	Product        string     `json:"product,omitempty"`
	Cause          string     `json:"cause,omitempty"`
	DecisionDue    string     `json:"decision_due"`
	ExtendedDue    string     `json:"extended_due,omitempty"`
	HoldingReplyAt string     `json:"holding_reply_at,omitempty"`
	HoldingReason  string     `json:"holding_reason,omitempty"`
	ClaimedBy      string     `json:"claimed_by,omitempty"`
	Outcome        Outcome    `json:"outcome,omitempty"`
	DecidedAt      string     `json:"decided_at,omitempty"`
	DecidedBy      string     `json:"decided_by,omitempty"`
	OnTime         OnTime     `json:"on_time"`
	// WorkingDaysLate is how many working days after the date in force the
	// decision came, or has not come yet; 0 when on time.
	WorkingDaysLate int `json:"working_days_late"`
	// WorkingDaysToDecision counts from receipt to the decision.
	WorkingDaysToDecision int `json:"working_days_to_decision,omitempty"`
	// EscalationAdvice: the consumer was given the next escalation steps
	// (a decision short of a full uphold, or a missed deadline).
	EscalationAdvice bool   `json:"escalation_advice"`
	PolicyVersion    string `json:"policy_version"`
	Rating           int    `json:"rating,omitempty"`
	RatingComment    string `json:"rating_comment,omitempty"`
	Erased           bool   `json:"erased"`
}

// Row is the complaint's register row at the instant now, counted with
// the policy's calendar (nil if the issuer's policy is gone: working days
// are then left out).
func (c Complaint) Row(pol *policies.Policy, now time.Time) RegisterRow {
	r := RegisterRow{
		Case: c.ID, Issuer: c.Issuer, Channel: c.Channel, ReceivedAt: c.ReceivedAt.UTC(),
		ReceivedDate: c.ReceivedDate.String(), FirstComplaint: c.FirstComplaint.String(), Status: c.Status,
		ClaimedBy: c.ClaimedBy, PolicyVersion: c.PolicyVersion, Rating: c.Rating, RatingComment: c.RatingComment,
		Erased: c.Erased, OnTime: OnTimeOpen,
	}
	if c.FirstComplaint.IsZero() {
		r.FirstComplaint = ""
	}
	r.Product, r.Cause = categoryLabel(pol, policies.RegisterProduct, c.Product), categoryLabel(pol, policies.RegisterCause, c.Cause)
	var decision *CaseDeadline
	for i, d := range c.Deadlines {
		if d.Kind == DeadlineDecision {
			decision = &c.Deadlines[i]
		}
		if d.Breached {
			r.EscalationAdvice = true
		}
	}
	for _, e := range c.History {
		if e.Kind == EventExtend {
			r.HoldingReplyAt = e.At.UTC().Format(time.RFC3339)
			r.HoldingReason = e.Text
		}
	}
	if c.Decision != nil {
		r.Outcome, r.DecidedBy = c.Decision.Outcome, c.Decision.By
		r.DecidedAt = c.Decision.At.UTC().Format(time.RFC3339)
		if c.Decision.Outcome != OutcomeUpheld {
			r.EscalationAdvice = true
		}
	}
	if decision == nil {
		return r
	}
	r.DecisionDue = decision.Due.String()
	if decision.Extended != nil {
		r.ExtendedDue = decision.Extended.String()
	}
	if pol == nil {
		return r
	}
	clock := pol.Clock()
	due, _ := c.activeEnds(*decision)
	switch {
	case c.Decision != nil:
		decided := clock.LocalDate(c.Decision.At)
		r.WorkingDaysToDecision = clock.WorkingDaysBetween(c.ReceivedDate, decided)
		if late := clock.WorkingDaysBetween(due, decided); late > 0 {
			r.OnTime, r.WorkingDaysLate = OnTimeNo, late
		} else {
			r.OnTime = OnTimeYes
		}
	case c.Status == CaseClosed:
		r.OnTime = OnTimeNoDecision
	default:
		if late := clock.WorkingDaysBetween(due, clock.LocalDate(now)); late > 0 {
			r.OnTime, r.WorkingDaysLate = OnTimeNo, late
		}
	}
	return r
}

// categoryLabel is the English label of a register category's choice, or
// the id itself when the policy no longer has it.
func categoryLabel(pol *policies.Policy, register policies.RegisterRole, id string) string {
	if pol == nil || id == "" {
		return id
	}
	for _, f := range pol.Fields {
		if f.Register != register {
			continue
		}
		for _, ch := range f.Choices {
			if ch.ID == id {
				return ch.Label.In("en")
			}
		}
	}
	return id
}

// registerColumns are the CSV header, in the order of csvRecord.
var registerColumns = []string{
	"case", "issuer", "channel", "received_at", "received_date", "first_complaint", "status", "product", "cause",
	"decision_due", "extended_due", "holding_reply_at", "holding_reason", "claimed_by",
	"outcome", "decided_at", "decided_by", "on_time", "working_days_late", "working_days_to_decision",
	"escalation_advice", "policy_version", "rating", "rating_comment", "erased",
}

func (r RegisterRow) csvRecord() []string {
	itoa := func(n int) string {
		if n == 0 {
			return ""
		}
		return strconv.Itoa(n)
	}
	return []string{
		r.Case, r.Issuer, r.Channel, r.ReceivedAt.Format(time.RFC3339), r.ReceivedDate, r.FirstComplaint, string(r.Status), r.Product, r.Cause,
		r.DecisionDue, r.ExtendedDue, r.HoldingReplyAt, r.HoldingReason, r.ClaimedBy,
		string(r.Outcome), r.DecidedAt, r.DecidedBy, string(r.OnTime), strconv.Itoa(r.WorkingDaysLate), itoa(r.WorkingDaysToDecision),
		strconv.FormatBool(r.EscalationAdvice), r.PolicyVersion, itoa(r.Rating), r.RatingComment, strconv.FormatBool(r.Erased),
	}
}

// inert keeps a cell from being read as a formula by a spreadsheet: text a
// consumer or an agent wrote may begin with =, +, -, @, a tab or a
// carriage return, which Excel and its kin evaluate. As OWASP advises, such
// a cell gets a leading apostrophe, which spreadsheets show as text.
func inert(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}

// WriteRegisterCSV writes rows as CSV for spreadsheets: UTF-8 with a byte
// order mark, which spreadsheet programs need to read å, ä, ö, æ and ø
// right, and every field quoted where it must be.
func WriteRegisterCSV(w io.Writer, rows []RegisterRow) error {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true // what spreadsheets expect
	if err := cw.Write(registerColumns); err != nil {
		return err
	}
	for _, r := range rows {
		rec := r.csvRecord()
		for i := range rec {
			rec[i] = inert(rec[i])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
