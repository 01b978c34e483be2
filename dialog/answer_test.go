package dialog

import (
	"testing"

	"ombud/locales"
)

// TestParseAmount pins how amounts read, including the ones Ombud writes
// itself: a Swedish amount copied from its own message has no-break
// spaces between the digit groups.
func TestParseAmount(t *testing.T) {
	tests := []struct {
		in, currency, value, display string
	}{
		// The display is in the consumer's language: Swedish here.
		{"1 250 kr", "SEK", "1250.00 SEK", "1\u00a0250 SEK"},
		{"2\u00a0000 SEK", "", "2000.00 SEK", "2\u00a0000 SEK"},
		{"2\u202f000 SEK", "", "2000.00 SEK", "2\u00a0000 SEK"},
		{"1.250,50 DKK", "", "1250.50 DKK", "1\u00a0250,50 DKK"},
		{"1,250.5", "DKK", "1250.50 DKK", "1\u00a0250,50 DKK"},
		{"€30", "SEK", "30.00 EUR", "30 EUR"},
		{"1'000 sek", "", "1000.00 SEK", "1\u00a0000 SEK"},
		{"500 SEK, not 40 EUR", "", "500.00 SEK", "500 SEK"},
		{"40 eur, not 500 sek", "", "40.00 EUR", "40 EUR"},
	}
	catalog, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	sv := catalog.Printer("sv")
	for _, tt := range tests {
		got, bad := parseAmount(tt.in, tt.currency, sv)
		if bad != nil {
			t.Errorf("parseAmount(%q): refused with %s", tt.in, bad.key)
			continue
		}
		if got.Value != tt.value || got.Display != tt.display {
			t.Errorf("parseAmount(%q) = %q / %q, want %q / %q", tt.in, got.Value, got.Display, tt.value, tt.display)
		}
	}
	for _, in := range []string{"", "a lot", "0", "0,00 kr", "2000000000 SEK"} {
		if got, bad := parseAmount(in, "SEK", sv); bad == nil {
			t.Errorf("parseAmount(%q) = %q, want a refusal", in, got.Value)
		}
	}
}
