package policies

import (
	"fmt"
	"time"
	_ "time/tzdata" // deadlines must not depend on the host's zoneinfo

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/dk"
	"github.com/rickar/cal/v2/se"
)

// Countries with a working-day calendar.
const (
	Sweden  = "SE"
	Denmark = "DK"
)

// Calendar knows the working days of one country, as an issuer counts them.
//
// SE: Monday to Friday except public holidays and the eves that lag 1930:173
// treats as holidays (midsommarafton, julafton, nyårsafton). DK: Monday to
// Friday except helligdage, grundlovsdag, 24 and 31 December (forældelsesloven
// § 27), and optionally the bank closing day after Ascension. Store bededag is
// no holiday since 2024.
type Calendar struct {
	country string
	cal     *cal.BusinessCalendar
}

// Extra Danish non-working days that rickar/cal's dk package lacks.
var (
	juleaftensdag = &cal.Holiday{Name: "Juleaftensdag", Type: cal.ObservanceOther,
		Month: time.December, Day: 24, Func: cal.CalcDayOfMonth}
	nytaarsaftensdag = &cal.Holiday{Name: "Nytårsaftensdag", Type: cal.ObservanceOther,
		Month: time.December, Day: 31, Func: cal.CalcDayOfMonth}
	fredagEfterKristiHimmelfart = &cal.Holiday{Name: "Banklukkedag efter Kristi Himmelfart",
		Type: cal.ObservanceBank, Offset: 40, Func: cal.CalcEasterOffset}
)

// NewCalendar returns the working-day calendar of country ("SE" or "DK").
func NewCalendar(country string, opts CalendarOptions) (*Calendar, error) {
	c := cal.NewBusinessCalendar()
	switch country {
	case Sweden:
		if opts.FridayAfterAscension {
			return nil, fmt.Errorf("calendar: friday_after_ascension is a Danish option, not for %s", country)
		}
		c.AddHoliday(se.Holidays...)
	case Denmark:
		c.AddHoliday(dk.Holidays...)
		c.AddHoliday(juleaftensdag, nytaarsaftensdag)
		if opts.FridayAfterAscension {
			c.AddHoliday(fredagEfterKristiHimmelfart)
		}
	default:
		return nil, fmt.Errorf("calendar: unknown country %q (want SE or DK)", country)
	}
	return &Calendar{country: country, cal: c}, nil
}

// IsWorkingDay reports whether d is a working day.
func (c *Calendar) IsWorkingDay(d Date) bool {
	return c.cal.IsWorkday(d.Time(time.UTC))
}

// AddWorkingDays is the n-th working day after d. The day d itself is day 0
// and never counts, even when it is a working day.
func (c *Calendar) AddWorkingDays(d Date, n int) Date {
	for n > 0 {
		d = d.AddDays(1)
		if c.IsWorkingDay(d) {
			n--
		}
	}
	return d
}

// NextWorkingDay is d if d is a working day, else the first working day after it.
func (c *Calendar) NextWorkingDay(d Date) Date {
	for !c.IsWorkingDay(d) {
		d = d.AddDays(1)
	}
	return d
}

// WorkingDaysBetween counts the working days after from up to and including
// to; it is negative when to is before from.
func (c *Calendar) WorkingDaysBetween(from, to Date) int {
	if to.Before(from) {
		return -c.WorkingDaysBetween(to, from)
	}
	n := 0
	for d := from.AddDays(1); !d.After(to); d = d.AddDays(1) {
		if c.IsWorkingDay(d) {
			n++
		}
	}
	return n
}

// AddYears is the same date n years later, moved to the next working day when
// it is not one (lag 1930:173; forældelsesloven § 27). 29 February becomes
// 28 February in a common year before the move.
func (c *Calendar) AddYears(d Date, n int) Date {
	y := Date{d.Year + n, d.Month, d.Day}
	if d.Month == time.February && d.Day == 29 && !isLeap(y.Year) {
		y.Day = 28
	}
	return c.NextWorkingDay(y)
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }
