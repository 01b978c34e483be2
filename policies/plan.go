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
	// step has not answered (Applies.NoAnswerWithin or NoAnswerBy); nil
	// otherwise. NoAnswerByExtended is the later date that applies instead
	// once the previous step sent a holding reply, when it may.
	NoAnswerBy         *Due
	NoAnswerByExtended *Due
	Deadlines          []PlannedDeadline
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
		clock := p.ClockFor(s) // the step's body counts its own deadlines
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
	// A step that opens when an earlier one misses its own deadline opens
	// on that deadline's dates.
	for i, ps := range plan.Steps {
		id := ps.Applies.NoAnswerBy
		if id == "" {
			continue
		}
		if d, ok := plan.deadline(ps.Applies.AfterStep, id); ok && d.Dated {
			due := d.Due
			plan.Steps[i].NoAnswerBy, plan.Steps[i].NoAnswerByExtended = &due, d.Extended
		}
	}
	return plan
}

// deadline finds a planned deadline by step and deadline id.
func (p Plan) deadline(step, id string) (PlannedDeadline, bool) {
	for _, s := range p.Steps {
		if s.ID != step {
			continue
		}
		for _, d := range s.Deadlines {
			if d.ID == id {
				return d, true
			}
		}
	}
	return PlannedDeadline{}, false
}

// ClockFor is the clock that counts step s's own deadlines: its body's
// country's working days, in that country's time zone.
func (p *Policy) ClockFor(s Step) *Clock {
	if s.Country == "" || s.Country == p.Country {
		return p.Clock()
	}
	if c, ok := p.bodyClocks[s.Country]; ok {
		return c
	}
	c, err := NewClock(s.Country, countryZone[s.Country], CalendarOptions{})
	if err != nil {
		panic("policies: step " + s.ID + " of " + p.ID + " has no valid calendar: " + err.Error())
	}
	return c
}

// countryZone is each country's time zone, for the clocks of bodies in a
// country other than the issuer's.
var countryZone = map[string]string{Sweden: "Europe/Stockholm", Denmark: "Europe/Copenhagen"}

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
