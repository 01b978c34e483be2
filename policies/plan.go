package policies

import "time"

// Plan is the escalation ladder of one complaint with every date computed:
// what binds the issuer, and by when the consumer must act at each step.
type Plan struct {
	Received       time.Time
	ReceivedDate   Date
	FirstComplaint Date
	// FirstComplaintAssumed is set when the first-complaint date was not
	// known and the receipt date stands in for it.
	FirstComplaintAssumed bool
	Steps                 []PlannedStep
}

// PlannedStep is a step with its dates.
type PlannedStep struct {
	Step
	// NoAnswerBy is when the step opens at the latest because the previous
	// step has not answered (Applies.NoAnswerWithin); nil otherwise.
	NoAnswerBy *Due
	Deadlines  []PlannedDeadline
}

// PlannedDeadline is a deadline with its date.
type PlannedDeadline struct {
	Deadline
	// Dated is false when the deadline counts from a decision that has not
	// been made yet; Due and Extended are then unset.
	Dated    bool
	Due      Due
	Extended *Due
}

// Plan computes the ladder for a complaint received at the instant received.
// firstComplaint is when the consumer first complained to the issuer; the
// zero Date means "now", the receipt date.
func (p *Policy) Plan(received time.Time, firstComplaint Date) Plan {
	clock := p.Clock()
	plan := Plan{Received: received, ReceivedDate: clock.LocalDate(received), FirstComplaint: firstComplaint}
	if firstComplaint.IsZero() {
		plan.FirstComplaint = plan.ReceivedDate
		plan.FirstComplaintAssumed = true
	}
	for _, s := range p.Steps {
		ps := PlannedStep{Step: s}
		if s.Applies.NoAnswerWithin != nil {
			due := clock.Due(received, *s.Applies.NoAnswerWithin)
			ps.NoAnswerBy = &due
		}
		for _, d := range s.Deadlines {
			pd := PlannedDeadline{Deadline: d}
			switch d.From {
			case FromReceived:
				pd.Dated, pd.Due = true, clock.Due(received, d.Period)
			case FromFirstComplaint:
				pd.Dated, pd.Due = true, clock.DueFromDate(plan.FirstComplaint, d.Period)
			}
			if pd.Dated && d.Extension != nil {
				var ext Due
				if d.From == FromReceived {
					ext = clock.Due(received, d.Extension.Period)
				} else {
					ext = clock.DueFromDate(plan.FirstComplaint, d.Extension.Period)
				}
				pd.Extended = &ext
			}
			ps.Deadlines = append(ps.Deadlines, pd)
		}
		plan.Steps = append(plan.Steps, ps)
	}
	return plan
}

// Clock is the policy's deadline clock: its country's calendar in its zone.
// The loader sets it; a policy built in code gets one on first use.
func (p *Policy) Clock() *Clock {
	if p.clock == nil {
		c, err := NewClock(p.Country, p.TimeZone, p.Calendar)
		if err != nil {
			// Only a policy that skipped validation gets here.
			panic("policies: policy " + p.ID + " has no valid calendar: " + err.Error())
		}
		p.clock = c
	}
	return p.clock
}
