package dialog

import (
	"fmt"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"ombud/locales"
	"ombud/policies"
)

// Default lengths where a policy sets none. Long texts stay under
// Telegram's 4096-character message limit.
const (
	defaultTextMax     = 300
	defaultLongTextMax = 4000
	defaultLongTextMin = 10
	maxReferenceLength = 64
)

// invalid is a localised reason an answer was not accepted.
type invalid struct {
	key  string
	data map[string]any
}

func (v *invalid) message(pr *locales.Printer) string { return pr.Text(v.key, v.data) }

// ansiEscape matches terminal escape sequences, such as colour codes pasted
// from a terminal: their letters are not the consumer's words.
var ansiEscape = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]`)

// cleanText drops terminal escape sequences, control characters (keeping
// line breaks and tabs) and invalid UTF-8, and trims the ends.
func cleanText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	s = ansiEscape.ReplaceAllString(s, "")
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		// Control and invisible format characters (zero-width spaces,
		// direction marks) are not words a consumer wrote.
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// hasWords reports whether s has at least one letter or digit: an answer of
// only emoji or punctuation says nothing an agent can act on.
func hasWords(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0
}

// parseAnswer checks text as an answer to field f. today is the local date,
// for dates that cannot lie in the future.
func parseAnswer(f policies.Field, text string, today policies.Date, pr *locales.Printer) (Answer, *invalid) {
	text = cleanText(text)
	if text == "" {
		return Answer{}, &invalid{key: "validate.required"}
	}
	parse, ok := answerParsers[f.Type]
	if !ok {
		return Answer{}, &invalid{key: "validate.required"}
	}
	return parse(f, text, today, pr)
}

// answerParsers read a typed answer to a field, by the field's type. A new
// field type is a parser here, its name in policies' field types, and its
// buttons, if any, in the prompt.
var answerParsers = map[string]func(f policies.Field, text string, today policies.Date, pr *locales.Printer) (Answer, *invalid){
	policies.FieldText: func(f policies.Field, text string, _ policies.Date, _ *locales.Printer) (Answer, *invalid) {
		return parseText(f, text)
	},
	policies.FieldLongText: func(f policies.Field, text string, _ policies.Date, _ *locales.Printer) (Answer, *invalid) {
		return parseText(f, text)
	},
	policies.FieldDate: parseDate,
	policies.FieldEmail: func(_ policies.Field, text string, _ policies.Date, _ *locales.Printer) (Answer, *invalid) {
		return parseEmail(text)
	},
	policies.FieldPhone: func(_ policies.Field, text string, _ policies.Date, _ *locales.Printer) (Answer, *invalid) {
		return parsePhone(text)
	},
	policies.FieldAmount: func(f policies.Field, text string, _ policies.Date, pr *locales.Printer) (Answer, *invalid) {
		return parseAmount(text, f.Currency, pr)
	},
	policies.FieldReference: func(f policies.Field, text string, _ policies.Date, pr *locales.Printer) (Answer, *invalid) {
		return parseReference(f, text, pr)
	},
	policies.FieldYesNo:  parseYesNo,
	policies.FieldChoice: parseChoice,
	policies.FieldAttachments: func(policies.Field, string, policies.Date, *locales.Printer) (Answer, *invalid) {
		return Answer{}, &invalid{key: "validate.attachment"} // files, not words
	},
}

func parseDate(_ policies.Field, text string, today policies.Date, _ *locales.Printer) (Answer, *invalid) {
	d, ok := parseDay(text, today)
	if !ok {
		return Answer{}, &invalid{key: "validate.date"}
	}
	if d.After(today) {
		return Answer{}, &invalid{key: "validate.date_future"}
	}
	return Answer{Value: d.String(), Display: d.String()}, nil
}

func parseEmail(text string) (Answer, *invalid) {
	addr, err := mail.ParseAddress(text)
	if err != nil || !emailShape.MatchString(addr.Address) {
		return Answer{}, &invalid{key: "validate.email"}
	}
	return Answer{Value: addr.Address, Display: addr.Address}, nil
}

func parseYesNo(_ policies.Field, text string, _ policies.Date, pr *locales.Printer) (Answer, *invalid) {
	switch yesNo(text) {
	case "yes":
		return Answer{Value: "yes", Display: pr.Text("answer.yes", nil)}, nil
	case "no":
		return Answer{Value: "no", Display: pr.Text("answer.no", nil)}, nil
	}
	return Answer{}, &invalid{key: "validate.yes_no"}
}

// parseChoice takes a choice by its label, its id or its number.
func parseChoice(f policies.Field, text string, _ policies.Date, pr *locales.Printer) (Answer, *invalid) {
	for i, ch := range f.Choices {
		label := ch.Label.In(pr.Lang())
		if strings.EqualFold(text, label) || strings.EqualFold(text, ch.ID) || text == strconv.Itoa(i+1) {
			return Answer{Value: ch.ID, Display: label}, nil
		}
	}
	return Answer{}, &invalid{key: "validate.choice"}
}

func parseText(f policies.Field, text string) (Answer, *invalid) {
	minLen, maxLen := f.MinLength, f.MaxLength
	if maxLen == 0 {
		maxLen = defaultTextMax
		if f.Type == policies.FieldLongText {
			maxLen = defaultLongTextMax
		}
	}
	if minLen == 0 && f.Type == policies.FieldLongText {
		minLen = defaultLongTextMin
	}
	n := utf8.RuneCountInString(text)
	switch {
	case n > maxLen:
		return Answer{}, &invalid{key: "validate.too_long", data: map[string]any{"Max": maxLen}}
	case !hasWords(text):
		return Answer{}, &invalid{key: "validate.words"}
	case n < minLen:
		return Answer{}, &invalid{key: "validate.too_short", data: map[string]any{"Min": minLen}}
	}
	return Answer{Value: text, Display: text}, nil
}

var (
	isoDay     = regexp.MustCompile(`^(\d{4})-(\d{1,2})-(\d{1,2})$`)
	nordicDay  = regexp.MustCompile(`^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$`)
	emailShape = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]{2,}$`)
	amountNum  = regexp.MustCompile(`\d[\d\s.,'\x{00a0}\x{202f}]*`)
)

// dayWords are answers that name a day relative to today, in the three
// languages: days after today (0 today, -1 yesterday).
var dayWords = map[string]int{
	"today": 0, "idag": 0, "i dag": 0,
	"yesterday": -1, "igår": -1, "i går": -1,
}

// parseDay reads a date as 2026-11-27, or day first as 27/11/2026,
// 27.11.2026 or 27-11-2026, as Nordic consumers write it. Dates that do
// not exist (31/02) are refused.
func parseDay(s string, today policies.Date) (policies.Date, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if days, ok := dayWords[s]; ok {
		return today.AddDays(days), true
	}
	var y, m, d string
	if p := isoDay.FindStringSubmatch(s); p != nil {
		y, m, d = p[1], p[2], p[3]
	} else if p := nordicDay.FindStringSubmatch(s); p != nil {
		d, m, y = p[1], p[2], p[3]
	} else {
		return policies.Date{}, false
	}
	yi, _ := strconv.Atoi(y)
	mi, _ := strconv.Atoi(m)
	di, _ := strconv.Atoi(d)
	t := time.Date(yi, time.Month(mi), di, 12, 0, 0, 0, time.UTC)
	if t.Year() != yi || int(t.Month()) != mi || t.Day() != di || yi < 1950 {
		return policies.Date{}, false
	}
	return policies.Date{Year: yi, Month: time.Month(mi), Day: di}, true
}

func parsePhone(s string) (Answer, *invalid) {
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune(" +-()./", r):
		default:
			return Answer{}, &invalid{key: "validate.phone"}
		}
	}
	if digits < 6 || digits > 15 {
		return Answer{}, &invalid{key: "validate.phone"}
	}
	return Answer{Value: s, Display: s}, nil
}

// currencyWords maps how consumers write currencies to ISO codes. "kr"
// means the field's own currency (SEK or DKK).
var currencyWords = map[string]string{
	"sek": "SEK", "dkk": "DKK", "eur": "EUR", "€": "EUR", "euro": "EUR", "nok": "NOK", "usd": "USD", "$": "USD",
}

// parseAmount reads amounts such as "1 250 kr", "1.250,50 DKK" or "€30".
// The last separator followed by one or two digits is the decimal mark.
func parseAmount(s, currency string, pr *locales.Printer) (Answer, *invalid) {
	num := amountNum.FindString(s)
	if num == "" {
		return Answer{}, &invalid{key: "validate.amount"}
	}
	num = strings.TrimRight(num, " \t\n.,'\u00a0\u202f")
	clean := strings.Map(func(r rune) rune {
		// Digit groups: spaces, no-break spaces (as Ombud itself writes
		// Swedish amounts, so a copied amount reads back the same) and
		// the Swiss apostrophe.
		if unicode.IsSpace(r) || r == '\'' || r == '\u202f' {
			return -1
		}
		return r
	}, num)
	whole, frac := clean, ""
	if i := strings.LastIndexAny(clean, ".,"); i >= 0 && len(clean)-i-1 <= 2 && len(clean)-i-1 > 0 {
		whole, frac = clean[:i], clean[i+1:]
	}
	whole = strings.NewReplacer(".", "", ",", "").Replace(whole)
	units, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || units > 1_000_000_000 {
		return Answer{}, &invalid{key: "validate.amount"}
	}
	cents := 0
	if frac != "" {
		cents, _ = strconv.Atoi(frac)
		if len(frac) == 1 {
			cents *= 10
		}
	}
	if units == 0 && cents == 0 {
		return Answer{}, &invalid{key: "validate.amount"}
	}
	// The currency named first wins, whatever the map's order.
	lower, first := strings.ToLower(s), len(s)+1
	for word, code := range currencyWords {
		if i := strings.Index(lower, word); i >= 0 && (i < first || i == first && code < currency) {
			first, currency = i, code
		}
	}
	if currency == "" {
		currency = "SEK"
	}
	return Answer{Value: fmt.Sprintf("%d.%02d %s", units, cents, currency), Display: pr.MoneyCents(int(units), cents, currency)}, nil
}

func parseReference(f policies.Field, s string, pr *locales.Printer) (Answer, *invalid) {
	bad := &invalid{key: "validate.reference", data: map[string]any{"Help": f.Help.In(pr.Lang())}}
	if utf8.RuneCountInString(s) > maxReferenceLength {
		return Answer{}, bad
	}
	if isoDay.MatchString(s) || nordicDay.MatchString(s) {
		// A date, real or not, is no case number: the consumer answered
		// another question.
		return Answer{}, &invalid{key: "validate.reference_date"}
	}
	if f.Pattern != "" {
		re, err := regexp.Compile(`^(?:` + f.Pattern + `)$`)
		if err != nil || !re.MatchString(s) {
			return Answer{}, bad
		}
	} else if strings.IndexFunc(s, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(" -_./#", r))
	}) >= 0 || !hasWords(s) {
		return Answer{}, bad
	}
	return Answer{Value: s, Display: s}, nil
}

// yesNo reads yes or no in Swedish, Danish or English; "" if neither.
func yesNo(s string) string {
	switch strings.ToLower(strings.Trim(cleanText(s), ".!")) {
	case "yes", "y", "ja", "j", "jo", "japp", "yep":
		return "yes"
	case "no", "n", "nej", "nope", "nä", "næ":
		return "no"
	}
	return ""
}
