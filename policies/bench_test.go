package policies

import (
	"testing"
	"time"
)

// go test -run '^$' -bench . -benchmem ./policies

func BenchmarkLoadBundled(b *testing.B) {
	for b.Loop() {
		if _, err := Load(Bundled(), BundledDir); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPlanAmexSE(b *testing.B) {
	set, err := Load(Bundled(), BundledDir)
	if err != nil {
		b.Fatal(err)
	}
	p, _ := set.Get("amex-se")
	received := time.Date(2026, 12, 18, 12, 0, 0, 0, time.UTC)
	for b.Loop() {
		p.Plan(received, Date{})
	}
}

func BenchmarkAddWorkingDays35(b *testing.B) {
	c, err := NewCalendar(Denmark, CalendarOptions{})
	if err != nil {
		b.Fatal(err)
	}
	from := Date{2026, time.December, 18}
	for b.Loop() {
		c.AddWorkingDays(from, 35)
	}
}
