package dialog

import (
	"regexp"
	"strings"
)

// cardCandidate finds runs of 13 to 19 digits, optionally grouped with
// spaces or dashes, as card numbers are written.
var cardCandidate = regexp.MustCompile(`\d(?:[ -]?\d){12,18}`)

// maskCards replaces every digit run that passes the Luhn check with a mask
// that keeps only the last four digits, so a full card number is never
// stored or forwarded. It reports whether anything was masked.
func maskCards(s string) (string, bool) {
	masked := false
	out := cardCandidate.ReplaceAllStringFunc(s, func(m string) string {
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, m)
		if !luhn(digits) {
			return m
		}
		masked = true
		return "**** **** **** " + digits[len(digits)-4:]
	})
	return out, masked
}

// luhn reports whether digits pass the Luhn (mod 10) check used by payment
// cards.
func luhn(digits string) bool {
	if len(digits) < 13 || len(digits) > 19 {
		return false
	}
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}
