package policies

import (
	"fmt"
	"time"
)

// Date is a calendar date without a time of day or a zone: the unit in which
// complaint deadlines are promised.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf is the local date of the instant t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{y, m, d}
}

// ParseDate parses YYYY-MM-DD and rejects dates that do not exist.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err == nil {
		return DateOf(t, time.UTC), nil
	}
	// Say what is wrong with a date of the right shape: it does not exist.
	var y, m, d int
	if n, _ := fmt.Sscanf(s, "%4d-%2d-%2d", &y, &m, &d); n == 3 && len(s) == len("2006-01-02") {
		if m < 1 || m > 12 {
			return Date{}, fmt.Errorf("%q has no month %d", s, m)
		}
		last := time.Date(y, time.Month(m)+1, 0, 12, 0, 0, 0, time.UTC).Day()
		return Date{}, fmt.Errorf("%q does not exist: %s %d has %d days", s, time.Month(m), y, last)
	}
	return Date{}, fmt.Errorf("%q is not a date: write it as YYYY-MM-DD", s)
}

// String formats the date as YYYY-MM-DD.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// Time is midnight at the start of d in loc.
func (d Date) Time(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// Weekday is d's day of the week.
func (d Date) Weekday() time.Weekday { return d.utc().Weekday() }

// AddDays is d moved n calendar days (n may be negative).
func (d Date) AddDays(n int) Date {
	return DateOf(d.utc().AddDate(0, 0, n), time.UTC)
}

// Before reports whether d comes before e.
func (d Date) Before(e Date) bool { return d.utc().Before(e.utc()) }

// After reports whether d comes after e.
func (d Date) After(e Date) bool { return d.utc().After(e.utc()) }

// MarshalText encodes d as YYYY-MM-DD, so dates store and log as text;
// the zero Date is the empty string.
func (d Date) MarshalText() ([]byte, error) {
	if d.IsZero() {
		return []byte{}, nil
	}
	return []byte(d.String()), nil
}

// UnmarshalText decodes YYYY-MM-DD, and the empty string as the zero Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	parsed, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}

func (d Date) utc() time.Time { return d.Time(time.UTC) }
