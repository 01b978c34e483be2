package dialog

import "testing"

func TestMaskCards(t *testing.T) {
	tests := []struct {
		in, want string
		masked   bool
	}{
		{"my card 4111 1111 1111 1111 was charged", "my card **** **** **** 1111 was charged", true},
		{"3782-822463-10005", "**** **** **** 0005", true},  // Amex, 15 digits
		{"5555555555554444.", "**** **** **** 4444.", true}, // Mastercard, no spaces
		{"two: 4012888888881881 and 4111111111111111", "two: **** **** **** 1881 and **** **** **** 1111", true},
		{"invoice 1234567890123", "invoice 1234567890123", false}, // 13 digits, fails Luhn
		{"phone +46 70 123 45 67", "phone +46 70 123 45 67", false},
		{"case AXSE-2026-00042", "case AXSE-2026-00042", false},
		{"4111 1111 1111 1112", "4111 1111 1111 1112", false}, // one digit off
		{"", "", false},
	}
	for _, tt := range tests {
		got, masked := maskCards(tt.in)
		if got != tt.want || masked != tt.masked {
			t.Errorf("maskCards(%q) = %q, %v; want %q, %v", tt.in, got, masked, tt.want, tt.masked)
		}
	}
}
