package policies

import (
	"fmt"
	"time"
)

// Due is when a deadline falls.
type Due struct {
	// Date is the last local day on which the party may act.
	Date Date
	// Ends is the first instant after the deadline: midnight after Date in
	// the policy's zone, or the exact hour for periods counted in hours.
	Ends time.Time
	// ByHour is set for periods counted in hours, whose time of day matters.
	ByHour bool
}

// Unit is what a period counts.
type Unit string

const (
	UnitWorkingDays  Unit = "working_days" // days the body's calendar marks as working days
	UnitCalendarDays Unit = "calendar_days"
	UnitHours        Unit = "hours"
	UnitYears        Unit = "years"
)

// Unit names the single unit a period is counted in, and its count.
func (p Period) Unit() (unit Unit, n int) {
	switch {
	case p.WorkingDays != 0:
		return UnitWorkingDays, p.WorkingDays
	case p.CalendarDays != 0:
		return UnitCalendarDays, p.CalendarDays
	case p.Hours != 0:
		return UnitHours, p.Hours
	case p.Years != 0:
		return UnitYears, p.Years
	}
	return "", 0
}

// units counts how many units are set; a valid period has exactly one.
func (p Period) units() int {
	n := 0
	for _, v := range []int{p.WorkingDays, p.CalendarDays, p.Hours, p.Years} {
		if v != 0 {
			n++
		}
	}
	return n
}

// String is a compact form for logs and errors, such as "15 working_days".
func (p Period) String() string {
	unit, n := p.Unit()
	return fmt.Sprintf("%d %s", n, unit)
}

// Clock is a calendar placed in a time zone: it turns instants into local
// receipt dates and periods into due dates.
type Clock struct {
	*Calendar
	loc *time.Location
}

// NewClock returns the deadline clock of a country in a time zone.
func NewClock(country, zone string, opts CalendarOptions) (*Clock, error) {
	c, err := NewCalendar(country, opts)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(zone)
	if err != nil || zone == "" || zone == "Local" {
		return nil, fmt.Errorf("calendar: unknown time zone %q", zone)
	}
	return &Clock{Calendar: c, loc: loc}, nil
}

// Location is the clock's time zone.
func (c *Clock) Location() *time.Location { return c.loc }

// LocalDate is the local date of the instant t: the day a complaint counts
// as received.
func (c *Clock) LocalDate(t time.Time) Date { return DateOf(t, c.loc) }

// Due is when period p ends, counted from the instant start. Day counts
// start from start's local date, which is day 0.
func (c *Clock) Due(start time.Time, p Period) Due {
	if p.Hours != 0 {
		end := start.Add(time.Duration(p.Hours) * time.Hour)
		return Due{Date: c.LocalDate(end), Ends: end, ByHour: true}
	}
	return c.DueFromDate(c.LocalDate(start), p)
}

// DueFromDate is when period p ends, counted from the local date d (day 0).
// A period in hours counts from the start of d.
func (c *Clock) DueFromDate(d Date, p Period) Due {
	var last Date
	switch {
	case p.Hours != 0:
		return c.Due(d.Time(c.loc), p)
	case p.WorkingDays != 0:
		last = c.AddWorkingDays(d, p.WorkingDays)
	case p.CalendarDays != 0:
		// Not moved off weekends: a calendar-day promise is the issuer's own,
		// and moving it would only make the consumer wait longer.
		last = d.AddDays(p.CalendarDays)
	case p.Years != 0:
		last = c.AddYears(d, p.Years)
	default:
		last = d
	}
	return Due{Date: last, Ends: last.AddDays(1).Time(c.loc)}
}

// WorkingDaysLeft counts the working days after the local date of now up to
// and including the due date: zero on the due date itself, negative once past.
func (c *Clock) WorkingDaysLeft(now time.Time, due Date) int {
	return c.WorkingDaysBetween(c.LocalDate(now), due)
}
