package policies

import (
	"testing"
	"time"
)

func mustDate(t testing.TB, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustCalendar(t testing.TB, country string, opts CalendarOptions) *Calendar {
	t.Helper()
	c, err := NewCalendar(country, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Non-working weekdays, from lag 1989:253, lag 1930:173, Nationalbanken's
// closing days and forældelsesloven § 27 (research/domain.md §4.3, 2028 computed
// from Easter Sunday 16 April 2028).
var nonWorkingWeekdays = map[string][]string{
	Sweden: {
		"2026-01-01", "2026-01-06", "2026-04-03", "2026-04-06", "2026-05-01", "2026-05-14",
		"2026-06-19", "2026-12-24", "2026-12-25", "2026-12-31",
		"2027-01-01", "2027-01-06", "2027-03-26", "2027-03-29", "2027-05-06",
		"2027-06-25", "2027-12-24", "2027-12-31",
		"2028-01-06", "2028-04-14", "2028-04-17", "2028-05-01", "2028-05-25",
		"2028-06-06", "2028-06-23", "2028-12-25", "2028-12-26",
	},
	Denmark: {
		"2026-01-01", "2026-04-02", "2026-04-03", "2026-04-06", "2026-05-14", "2026-05-25",
		"2026-06-05", "2026-12-24", "2026-12-25", "2026-12-31",
		"2027-01-01", "2027-03-25", "2027-03-26", "2027-03-29", "2027-05-06", "2027-05-17",
		"2027-12-24", "2027-12-31",
		"2028-04-13", "2028-04-14", "2028-04-17", "2028-05-25", "2028-06-05",
		"2028-12-25", "2028-12-26",
	},
}

// Weekdays that are easy to get wrong the other way.
var workingWeekdays = map[string][]string{
	Sweden: {
		"2026-01-05", // trettondagsafton is no holiday
		"2026-04-02", // skärtorsdag is no Swedish holiday
		"2026-05-25", // annandag pingst stopped being a holiday in 2005
		"2026-06-22", "2026-12-23", "2026-12-28", "2027-01-07",
		"2028-06-05", // Whit Monday, working in Sweden
	},
	Denmark: {
		"2026-01-06", // 6 January is a Swedish holiday only
		"2026-05-01", // 1 May is no Danish public holiday
		"2026-05-08", // Store bededag would have been here; abolished from 2024
		"2026-05-15", // bank closing day after Ascension: working by default
		"2027-05-07",
		"2028-01-06",
	},
}

func TestCalendarWorkingDays(t *testing.T) {
	for country, days := range nonWorkingWeekdays {
		c := mustCalendar(t, country, CalendarOptions{})
		for _, s := range days {
			d := mustDate(t, s)
			if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
				t.Errorf("%s %s: test table lists a weekend day", country, s)
			}
			if c.IsWorkingDay(d) {
				t.Errorf("%s %s (%s): working day, want non-working", country, s, d.Weekday())
			}
		}
	}
	for country, days := range workingWeekdays {
		c := mustCalendar(t, country, CalendarOptions{})
		for _, s := range days {
			if d := mustDate(t, s); !c.IsWorkingDay(d) {
				t.Errorf("%s %s (%s): non-working, want working day", country, s, d.Weekday())
			}
		}
	}
}

func TestStoreBededagOnlyBefore2024(t *testing.T) {
	c := mustCalendar(t, Denmark, CalendarOptions{})
	if c.IsWorkingDay(mustDate(t, "2023-05-05")) {
		t.Error("2023-05-05 (Store bededag) is a working day, want holiday")
	}
	if !c.IsWorkingDay(mustDate(t, "2024-04-26")) {
		t.Error("2024-04-26 (former Store bededag) is not a working day, want working")
	}
}

func TestFridayAfterAscensionOption(t *testing.T) {
	c := mustCalendar(t, Denmark, CalendarOptions{FridayAfterAscension: true})
	for _, s := range []string{"2026-05-15", "2027-05-07", "2028-05-26"} {
		if c.IsWorkingDay(mustDate(t, s)) {
			t.Errorf("%s with friday_after_ascension: working day, want closed", s)
		}
	}
	if _, err := NewCalendar(Sweden, CalendarOptions{FridayAfterAscension: true}); err == nil {
		t.Error("friday_after_ascension accepted for SE, want error")
	}
}

func TestUnknownCountry(t *testing.T) {
	if _, err := NewCalendar("NO", CalendarOptions{}); err == nil {
		t.Fatal("NewCalendar(NO) succeeded, want error")
	}
}

func TestAddWorkingDays(t *testing.T) {
	tests := []struct {
		name    string
		country string
		opts    CalendarOptions
		from    string
		n       int
		want    string
	}{
		{"SE christmas example from DESIGN", Sweden, CalendarOptions{}, "2026-12-18", 15, "2027-01-15"},
		{"SE holding reply 35", Sweden, CalendarOptions{}, "2026-12-18", 35, "2027-02-12"},
		{"DK christmas with 24 and 31 Dec", Denmark, CalendarOptions{}, "2026-12-18", 15, "2027-01-14"},
		{"DK holding reply 35", Denmark, CalendarOptions{}, "2026-12-18", 35, "2027-02-11"},
		{"SE easter 2026", Sweden, CalendarOptions{}, "2026-04-01", 15, "2026-04-24"},
		{"DK easter 2026", Denmark, CalendarOptions{}, "2026-04-01", 15, "2026-04-27"},
		{"received on saturday counts from monday", Sweden, CalendarOptions{}, "2026-12-19", 15, "2027-01-15"},
		{"received on sunday", Denmark, CalendarOptions{}, "2026-12-20", 1, "2026-12-21"},
		{"received on a holiday", Sweden, CalendarOptions{}, "2026-01-06", 1, "2026-01-07"},
		{"day of receipt never counts", Sweden, CalendarOptions{}, "2026-11-27", 1, "2026-11-30"},
		{"SE midsommarafton", Sweden, CalendarOptions{}, "2026-06-18", 1, "2026-06-22"},
		{"SE national day on a tuesday", Sweden, CalendarOptions{}, "2028-06-05", 1, "2028-06-07"},
		{"SE whit monday works", Sweden, CalendarOptions{}, "2028-06-02", 1, "2028-06-05"},
		{"DK whit monday and grundlovsdag", Denmark, CalendarOptions{}, "2028-06-02", 1, "2028-06-06"},
		{"DK grundlovsdag 2026", Denmark, CalendarOptions{}, "2026-06-04", 1, "2026-06-08"},
		{"SE ascension 2027", Sweden, CalendarOptions{}, "2027-05-05", 1, "2027-05-07"},
		{"DK ascension friday works by default", Denmark, CalendarOptions{}, "2027-05-05", 1, "2027-05-07"},
		{"DK ascension friday closed by option", Denmark, CalendarOptions{FridayAfterAscension: true}, "2027-05-05", 1, "2027-05-10"},
		{"DK maundy thursday to easter tuesday", Denmark, CalendarOptions{}, "2027-03-24", 1, "2027-03-30"},
		{"SE maundy thursday works", Sweden, CalendarOptions{}, "2027-03-24", 1, "2027-03-25"},
		{"SE new year 2028", Sweden, CalendarOptions{}, "2027-12-23", 5, "2028-01-03"},
		{"DK new year 2028", Denmark, CalendarOptions{}, "2027-12-23", 5, "2028-01-03"},
		{"SE epiphany 2028", Sweden, CalendarOptions{}, "2028-01-05", 1, "2028-01-07"},
		{"DK epiphany 2028 works", Denmark, CalendarOptions{}, "2028-01-05", 1, "2028-01-06"},
		{"SE christmas 2028", Sweden, CalendarOptions{}, "2028-12-22", 1, "2028-12-27"},
		{"zero days is the day itself", Sweden, CalendarOptions{}, "2026-12-19", 0, "2026-12-19"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustCalendar(t, tt.country, tt.opts)
			if got := c.AddWorkingDays(mustDate(t, tt.from), tt.n); got.String() != tt.want {
				t.Errorf("AddWorkingDays(%s, %d) = %s, want %s", tt.from, tt.n, got, tt.want)
			}
		})
	}
}

func TestAddYears(t *testing.T) {
	tests := []struct {
		country, from string
		want          string
	}{
		{Sweden, "2026-03-10", "2027-03-10"},
		{Sweden, "2026-01-01", "2027-01-04"},  // nyårsdagen 2027 is a Friday holiday
		{Sweden, "2027-12-24", "2028-12-27"},  // Sun 24, Mon 25, Tue 26 Dec 2028
		{Denmark, "2025-12-31", "2027-01-04"}, // 31 Dec, 1 Jan, then a weekend
		{Sweden, "2024-02-29", "2025-02-28"},
		{Denmark, "2026-06-05", "2027-06-07"}, // grundlovsdag 2027 is a Saturday
	}
	for _, tt := range tests {
		c := mustCalendar(t, tt.country, CalendarOptions{})
		if got := c.AddYears(mustDate(t, tt.from), 1); got.String() != tt.want {
			t.Errorf("%s AddYears(%s, 1) = %s, want %s", tt.country, tt.from, got, tt.want)
		}
	}
}

func TestWorkingDaysBetween(t *testing.T) {
	c := mustCalendar(t, Sweden, CalendarOptions{})
	from, to := mustDate(t, "2026-12-18"), mustDate(t, "2027-01-15")
	if got := c.WorkingDaysBetween(from, to); got != 15 {
		t.Errorf("WorkingDaysBetween = %d, want 15", got)
	}
	if got := c.WorkingDaysBetween(to, from); got != -15 {
		t.Errorf("WorkingDaysBetween reversed = %d, want -15", got)
	}
	if got := c.WorkingDaysBetween(to, to); got != 0 {
		t.Errorf("WorkingDaysBetween same day = %d, want 0", got)
	}
}

func TestClockReceiptDateAndDue(t *testing.T) {
	se, err := NewClock(Sweden, "Europe/Stockholm", CalendarOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dk, err := NewClock(Denmark, "Europe/Copenhagen", CalendarOptions{})
	if err != nil {
		t.Fatal(err)
	}
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name     string
		clock    *Clock
		received time.Time
		period   Period
		want     string
		wantEnds string
	}{
		{"new year already in Stockholm", se, utc("2026-12-31T23:30:00Z"), Period{WorkingDays: 15}, "2027-01-25", "2027-01-25T23:00:00Z"},
		{"after midnight local is the next day", se, utc("2026-12-17T23:30:00Z"), Period{WorkingDays: 15}, "2027-01-15", "2027-01-15T23:00:00Z"},
		{"before midnight local is the same day", se, utc("2026-12-17T22:30:00Z"), Period{WorkingDays: 15}, "2027-01-14", "2027-01-14T23:00:00Z"},
		{"summer time in Copenhagen", dk, utc("2026-06-04T22:30:00Z"), Period{WorkingDays: 1}, "2026-06-08", "2026-06-08T22:00:00Z"},
		{"hours are exact", se, utc("2026-12-31T23:30:00Z"), Period{Hours: 24}, "2027-01-02", "2027-01-01T23:30:00Z"},
		{"calendar days are not moved", se, utc("2026-12-18T10:00:00Z"), Period{CalendarDays: 14}, "2027-01-01", "2027-01-01T23:00:00Z"},
		{"a year moves off a holiday", se, utc("2026-01-01T10:00:00Z"), Period{Years: 1}, "2027-01-04", "2027-01-04T23:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.clock.Due(tt.received, tt.period)
			if got.Date.String() != tt.want {
				t.Errorf("Due date = %s, want %s", got.Date, tt.want)
			}
			if ends := got.Ends.UTC().Format(time.RFC3339); ends != tt.wantEnds {
				t.Errorf("Due ends = %s, want %s", ends, tt.wantEnds)
			}
			if got.ByHour != (tt.period.Hours != 0) {
				t.Errorf("ByHour = %v for %s", got.ByHour, tt.period)
			}
		})
	}
	if got := se.WorkingDaysLeft(utc("2027-01-11T09:00:00Z"), se.Due(utc("2026-12-18T09:00:00Z"), Period{WorkingDays: 15}).Date); got != 4 {
		t.Errorf("WorkingDaysLeft = %d, want 4", got)
	}
}

func TestNewClockRejectsBadZone(t *testing.T) {
	for _, zone := range []string{"", "Local", "Europe/Stockholmm"} {
		if _, err := NewClock(Sweden, zone, CalendarOptions{}); err == nil {
			t.Errorf("NewClock(zone %q) succeeded, want error", zone)
		}
	}
}

func TestParseDate(t *testing.T) {
	for _, bad := range []string{"", "2026-02-30", "18.12.2026", "2026-13-01", "2026-12-18T00:00:00Z"} {
		if _, err := ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) succeeded, want error", bad)
		}
	}
	d := mustDate(t, "2026-12-18")
	if d.Weekday() != time.Friday {
		t.Errorf("2026-12-18 weekday = %s, want Friday", d.Weekday())
	}
	for _, d := range []Date{d, {}} {
		b, _ := d.MarshalText()
		var back Date
		if err := back.UnmarshalText(b); err != nil || back != d {
			t.Errorf("text round trip of %v = %v, %v", d, back, err)
		}
	}
}
