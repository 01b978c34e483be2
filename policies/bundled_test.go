package policies

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func loadBundled(t *testing.T) *Set {
	t.Helper()
	set, err := Load(Bundled(), BundledDir)
	if err != nil {
		t.Fatalf("bundled policies do not load:\n%v", err)
	}
	return set
}

// The five issuers of the seed pages, correct as of today.
func TestBundledPolicies(t *testing.T) {
	set := loadBundled(t)
	if got, want := strings.Join(set.IDs(), " "), "amex-dk amex-se billender inkassogram klarna-dk"; got != want {
		t.Fatalf("ids = %s, want %s", got, want)
	}
	if w := set.Warnings(); len(w) > 0 {
		t.Errorf("bundled policies have lint warnings:\n%v", warningsText(w))
	}
	for _, p := range set.All() {
		want := map[string]string{Sweden: "sv en", Denmark: "da en"}[p.Country]
		if got := strings.Join(p.Languages, " "); got != want {
			t.Errorf("%s: languages %q, want %q for %s", p.ID, got, want, p.Country)
		}
		for _, s := range p.Steps {
			if s.Kind == KindADR && s.ID == "arn" {
				if s.Conditions.Fee == nil || s.Conditions.Fee.Amount != 150 || s.Conditions.Fee.Currency != "SEK" {
					t.Errorf("%s: ARN fee = %+v, want 150 SEK (ARN is not free)", p.ID, s.Conditions.Fee)
				}
				if len(s.Deadlines) == 0 || s.Deadlines[0].From != FromFirstComplaint || s.Deadlines[0].Period != (Period{Years: 1}) {
					t.Errorf("%s: ARN must be one year from the first complaint, got %+v", p.ID, s.Deadlines)
				}
			}
			if s.ID == "fanke" && (s.Conditions.Fee == nil || s.Conditions.Fee.Amount != 200 || s.Conditions.Fee.Currency != "DKK") {
				t.Errorf("%s: fanke fee = %+v, want 200 DKK", p.ID, s.Conditions.Fee)
			}
		}
	}
}

func TestBundledDeadlines(t *testing.T) {
	set := loadBundled(t)
	tests := []struct {
		policy, step, deadline string
		received               time.Time
		want, wantExtended     string
	}{
		{"amex-se", "complaints", "decision", time.Date(2026, 12, 18, 12, 0, 0, 0, time.UTC), "2027-01-15", "2027-02-12"},
		{"amex-dk", "complaints", "decision", time.Date(2026, 12, 18, 12, 0, 0, 0, time.UTC), "2027-01-14", "2027-01-22"},
		{"amex-dk", "complaints", "acknowledge", time.Date(2026, 12, 18, 12, 0, 0, 0, time.UTC), "2026-12-23", ""},
		{"klarna-dk", "complaints", "decision", time.Date(2026, 12, 18, 12, 0, 0, 0, time.UTC), "2027-01-14", "2027-02-11"},
		{"billender", "complaints", "decision", time.Date(2026, 12, 18, 12, 0, 0, 0, time.UTC), "2027-01-01", ""},
		{"billender", "complaints", "acknowledge", time.Date(2026, 12, 18, 12, 0, 0, 0, time.UTC), "2026-12-19", ""},
	}
	for _, tt := range tests {
		p, ok := set.Get(tt.policy)
		if !ok {
			t.Fatalf("no policy %s", tt.policy)
		}
		plan := p.Plan(tt.received, Date{})
		found := false
		for _, s := range plan.Steps {
			for _, d := range s.Deadlines {
				if s.ID != tt.step || d.ID != tt.deadline {
					continue
				}
				found = true
				if got := d.Due.Date.String(); got != tt.want {
					t.Errorf("%s %s.%s = %s, want %s", tt.policy, tt.step, tt.deadline, got, tt.want)
				}
				gotExt := ""
				if d.Extended != nil {
					gotExt = d.Extended.Date.String()
				}
				if gotExt != tt.wantExtended {
					t.Errorf("%s %s.%s extended = %q, want %q", tt.policy, tt.step, tt.deadline, gotExt, tt.wantExtended)
				}
			}
		}
		if !found {
			t.Errorf("%s has no deadline %s.%s", tt.policy, tt.step, tt.deadline)
		}
	}
}

// The seed pages are out of date in known ways; the policies must not be.
func TestBundledPoliciesAreCurrent(t *testing.T) {
	set := loadBundled(t)
	for _, p := range set.All() {
		var all strings.Builder
		walkStrings(reflectValue(p), keyPath{}, func(at keyPath, s string) {
			all.WriteString(s + "\n")
			if mentionsODR(s) {
				t.Errorf("%s %s sends consumers to the closed ODR platform: %q", p.ID, at, s)
			}
			lower := strings.ToLower(s)
			if strings.Contains(lower, "arn") && (strings.Contains(lower, "kostnadsfritt") || strings.Contains(lower, "free of charge")) && strings.Contains(at.String(), "arn") {
				t.Errorf("%s %s calls ARN free: %q", p.ID, at, s)
			}
		})
		if p.ID == "inkassogram" {
			fi, ok := p.Step("finansinspektionen")
			if !ok || fi.Kind != KindSupervisor {
				t.Errorf("inkassogram: Finansinspektionen must be the supervisor of debt collectors since 2024")
			}
		}
	}
}

func reflectValue(p *Policy) reflect.Value { return reflect.ValueOf(*p) }
