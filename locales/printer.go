package locales

import (
	"errors"
	"maps"
	"strings"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/message"
)

// Printer renders messages in one language. Get one from Catalog.Printer.
// It is safe for concurrent use.
type Printer struct {
	lang      string
	localizer *i18n.Localizer
	// numbers groups digits by CLDR: a no-break space in Swedish, so
	// an amount never breaks over two lines.
	numbers *message.Printer
}

// Lang returns the printer's language code, such as "sv".
func (p *Printer) Lang() string {
	return p.lang
}

// Text returns the message id rendered with data, which may be nil. A
// placeholder missing from data prints as "<no value>", text/template's
// default.
// A message missing in the printer's language is rendered in English; an
// id that no catalog knows, or a message that fails to render, gives the
// id itself. Text never returns an empty string.
func (p *Printer) Text(id string, data map[string]any) string {
	return p.localize(&i18n.LocalizeConfig{
		MessageID:    id,
		TemplateData: data,
	})
}

// Plural returns the plural message id in the form for count, rendered
// with data, which may be nil. The count is also available to the template
// as {{.Count}}; it replaces any "Count" in data. data is not modified.
// Missing messages are handled as in Text.
func (p *Printer) Plural(id string, count int, data map[string]any) string {
	all := make(map[string]any, len(data)+1)
	maps.Copy(all, data)
	all["Count"] = count
	return p.localize(&i18n.LocalizeConfig{
		MessageID:    id,
		TemplateData: all,
		PluralCount:  count,
	})
}

// Date returns t as a full date in the printer's language, for example
// "fredag 15 januari 2027" (sv), "fredag den 15. januar 2027" (da) or
// "Friday 15 January 2027" (en). It uses t's own year, month, day and
// weekday: convert t to the right time zone first.
//
// The layout is the message "date.full"; weekday and month names are the
// messages "weekday.<name>" and "month.<name>", such as "weekday.friday".
func (p *Printer) Date(t time.Time) string {
	return p.Text("date.full", map[string]any{
		"Weekday": p.Text("weekday."+strings.ToLower(t.Weekday().String()), nil),
		"Day":     t.Day(),
		"Month":   p.Text("month."+strings.ToLower(t.Month().String()), nil),
		"Year":    t.Year(),
	})
}

// localize runs lc and applies the fallback rules described on Text.
func (p *Printer) localize(lc *i18n.LocalizeConfig) string {
	text, err := p.localizer.Localize(lc)
	if err != nil {
		// go-i18n returns the English text together with a
		// MessageNotFoundErr when it falls back to English. That is success.
		var notFound *i18n.MessageNotFoundErr
		if !errors.As(err, &notFound) {
			return lc.MessageID
		}
	}
	if text == "" {
		return lc.MessageID
	}
	return text
}

// DayISO returns t's date as weekday and ISO date, such as "fredag
// 2027-01-15": unambiguous in every language and easy to copy.
func (p *Printer) DayISO(t time.Time) string {
	return p.Text("date.weekday_iso", map[string]any{
		"Weekday": p.Text("weekday."+strings.ToLower(t.Weekday().String()), nil),
		"ISO":     t.Format(time.DateOnly),
	})
}

// MoneyCents is Money for an amount with öre or øre: "1 250,50 SEK" (sv),
// "1.250,50 DKK" (da), "1,250.50 SEK" (en). Whole amounts print as Money.
func (p *Printer) MoneyCents(units, cents int, currency string) string {
	if cents == 0 {
		return p.Money(units, currency)
	}
	return p.Text("number.money", map[string]any{
		"Amount":   p.numbers.Sprintf("%.2f", float64(units)+float64(cents)/100),
		"Currency": currency,
	})
}

// Money returns a whole amount with the language's digit grouping and the
// currency code, such as "2\u00a0000 SEK" (sv, a no-break space),
// "2.000 DKK" (da), "2,000 SEK" (en).
func (p *Printer) Money(amount int, currency string) string {
	return p.Text("number.money", map[string]any{
		"Amount":   p.numbers.Sprint(amount),
		"Currency": currency,
	})
}
