package locales

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/goccy/go-yaml"
)

// rawMessage is one message as written in a catalog file: its plural forms
// ("other" only for a plain string) and each form's placeholder names.
type rawMessage map[string][]string

// readRaw parses a catalog file directly, without go-i18n, so the tests
// check the text that translators edit.
func readRaw(t *testing.T, lang string) map[string]rawMessage {
	t.Helper()
	buf, err := catalogFiles.ReadFile("catalog/" + lang + ".yaml")
	if err != nil {
		t.Fatalf("read %s: %v", lang, err)
	}
	var file map[string]any
	if err := yaml.Unmarshal(buf, &file); err != nil {
		t.Fatalf("unmarshal %s: %v", lang, err)
	}
	// A dotted lower_snake message id such as explain.contact.web.
	idRE := regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)
	out := make(map[string]rawMessage, len(file))
	for id, value := range file {
		if !idRE.MatchString(id) {
			t.Errorf("%s: id %q is not dotted lower_snake", lang, id)
		}
		msg := rawMessage{}
		switch v := value.(type) {
		case string:
			msg["other"] = placeholders(t, lang, id, v)
		case map[string]any:
			for form, text := range v {
				s, ok := text.(string)
				if !ok {
					t.Errorf("%s: %s.%s is %T, want a quoted string", lang, id, form, text)
					continue
				}
				msg[form] = placeholders(t, lang, id, s)
			}
			if got := slices.Sorted(maps.Keys(msg)); !slices.Equal(got, []string{"one", "other"}) {
				t.Errorf("%s: %s has plural forms %v, want [one other]", lang, id, got)
			}
		default:
			t.Errorf("%s: %s is %T, want a quoted string or a one/other map", lang, id, value)
			continue
		}
		out[id] = msg
	}
	return out
}

// placeholders returns the sorted placeholder names in s and fails the test
// if s contains any template action that is not a simple placeholder.
func placeholders(t *testing.T, lang, id, s string) []string {
	t.Helper()
	// A simple template placeholder such as {{.Date}}.
	placeholderRE := regexp.MustCompile(`\{\{\s*\.([A-Za-z][A-Za-z0-9]*)\s*\}\}`)
	matches := placeholderRE.FindAllStringSubmatch(s, -1)
	if n := strings.Count(s, "{{"); n != len(matches) {
		t.Errorf("%s: %s: %d template actions but %d simple placeholders in %q", lang, id, n, len(matches), s)
	}
	var names []string
	for _, m := range matches {
		names = append(names, m[1])
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func newCatalog(t *testing.T) *Catalog {
	t.Helper()
	c, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func TestCatalogsComplete(t *testing.T) {
	// Check the raw files before loading them, so a file that go-i18n
	// rejects still gets a full report here.
	langs := []string{"sv", "da", "en"}
	raw := map[string]map[string]rawMessage{}
	for _, lang := range langs {
		raw[lang] = readRaw(t, lang)
	}
	en := raw["en"]
	for _, lang := range langs {
		got := raw[lang]
		for id, want := range en {
			msg, ok := got[id]
			if !ok {
				t.Errorf("%s: missing %s", lang, id)
				continue
			}
			if gotForms, wantForms := slices.Sorted(maps.Keys(msg)), slices.Sorted(maps.Keys(want)); !slices.Equal(gotForms, wantForms) {
				t.Errorf("%s: %s has forms %v, en has %v", lang, id, gotForms, wantForms)
				continue
			}
			for form := range want {
				if !slices.Equal(msg[form], want[form]) {
					t.Errorf("%s: %s (%s) has placeholders %v, en has %v", lang, id, form, msg[form], want[form])
				}
			}
		}
		for id := range got {
			if _, ok := en[id]; !ok {
				t.Errorf("%s: extra id %s, not in en", lang, id)
			}
		}
	}

	// MessageIDs must report exactly what each file defines.
	c := newCatalog(t)
	if got := c.Languages(); !slices.Equal(got, langs) {
		t.Fatalf("Languages() = %v, want %v", got, langs)
	}
	for _, lang := range langs {
		if got, want := c.MessageIDs(lang), slices.Sorted(maps.Keys(raw[lang])); !slices.Equal(got, want) {
			t.Errorf("MessageIDs(%q) = %v, want %v", lang, got, want)
		}
	}
}

// TestRequiredMessages pins the ids and placeholders other packages rely on.
// TestCatalogsComplete then holds sv and da to the same shape.
func TestLanguages(t *testing.T) {
	c := newCatalog(t)
	got := c.Languages()
	want := []string{"sv", "da", "en"}
	if !slices.Equal(got, want) {
		t.Fatalf("Languages() = %v, want %v", got, want)
	}
	got[0] = "xx"
	if again := c.Languages(); !slices.Equal(again, want) {
		t.Errorf("Languages() after caller change = %v, want %v", again, want)
	}
	if got := c.MessageIDs("xx"); got != nil {
		t.Errorf("MessageIDs(xx) = %v, want nil", got)
	}
	ids := c.MessageIDs("en")
	if !slices.IsSorted(ids) {
		t.Errorf("MessageIDs(en) is not sorted: %v", ids)
	}
}

func TestText(t *testing.T) {
	c := newCatalog(t)
	tests := []struct {
		lang string
		id   string
		data map[string]any
		want string
	}{
		{"en", "explain.title", map[string]any{"Issuer": "Klarna"}, "How to complain about Klarna"},
		{"sv", "explain.title", map[string]any{"Issuer": "Klarna"}, "Så klagar du på Klarna"},
		{"da", "explain.title", map[string]any{"Issuer": "Klarna"}, "Sådan klager du over Klarna"},
		{"sv", "answer.yes", nil, "Ja"},
		{"da", "answer.no", nil, "Nej"},
		{"en", "explain.step", map[string]any{"N": 2, "Who": "ARN"}, "2. ARN"},
		{"da", "validate.too_short", map[string]any{"Min": 10}, "Skriv lidt mere: mindst 10 tegn."},
		{"sv", "lang.da", nil, "Dansk"},
	}
	for _, tt := range tests {
		if got := c.Printer(tt.lang).Text(tt.id, tt.data); got != tt.want {
			t.Errorf("Printer(%q).Text(%q) = %q, want %q", tt.lang, tt.id, got, tt.want)
		}
	}
}

func TestPlural(t *testing.T) {
	c := newCatalog(t)
	tests := []struct {
		lang  string
		id    string
		count int
		want  string
	}{
		{"sv", "period.working_days", 1, "1 arbetsdag"},
		{"sv", "period.working_days", 2, "2 arbetsdagar"},
		{"sv", "period.working_days", 0, "0 arbetsdagar"},
		{"sv", "period.working_days", 21, "21 arbetsdagar"},
		{"da", "period.working_days", 1, "1 arbejdsdag"},
		{"da", "period.working_days", 2, "2 arbejdsdage"},
		{"da", "period.working_days", 0, "0 arbejdsdage"},
		{"en", "period.working_days", 1, "1 working day"},
		{"en", "period.working_days", 15, "15 working days"},
		{"en", "period.calendar_days", 1, "1 calendar day"},
		{"sv", "period.calendar_days", 14, "14 kalenderdagar"},
		{"da", "period.hours", 1, "1 time"},
		{"da", "period.hours", 48, "48 timer"},
		{"sv", "period.hours", 24, "24 timmar"},
		{"sv", "period.years", 3, "3 år"},
		{"en", "period.years", 1, "1 year"},
		{"en", "deadline.working_days_left", 1, "1 working day left"},
		{"sv", "deadline.working_days_left", 5, "5 arbetsdagar kvar"},
		{"da", "deadline.working_days_left", 1, "1 arbejdsdag tilbage"},
	}
	for _, tt := range tests {
		if got := c.Printer(tt.lang).Plural(tt.id, tt.count, nil); got != tt.want {
			t.Errorf("Printer(%q).Plural(%q, %d, nil) = %q, want %q", tt.lang, tt.id, tt.count, got, tt.want)
		}
	}
}

func TestPluralData(t *testing.T) {
	c := newCatalog(t)
	data := map[string]any{"Count": 99, "Other": "x"}
	got := c.Printer("en").Plural("period.working_days", 2, data)
	if want := "2 working days"; got != want {
		t.Errorf("Plural with Count in data = %q, want %q", got, want)
	}
	if data["Count"] != 99 || len(data) != 2 {
		t.Errorf("Plural changed the caller's data: %v", data)
	}
}

func TestPrinterFallback(t *testing.T) {
	c := newCatalog(t)
	for _, lang := range []string{"sv", "da", "en", "xx"} {
		p := c.Printer(lang)
		if got, want := p.Text("no.such_message", nil), "no.such_message"; got != want {
			t.Errorf("Printer(%q).Text(unknown) = %q, want %q", lang, got, want)
		}
		if got, want := p.Plural("no.such_plural", 2, nil), "no.such_plural"; got != want {
			t.Errorf("Printer(%q).Plural(unknown) = %q, want %q", lang, got, want)
		}
	}
	for _, lang := range []string{"xx", "", "de", "sv-SE"} {
		p := c.Printer(lang)
		if got := p.Lang(); got != "en" {
			t.Errorf("Printer(%q).Lang() = %q, want en", lang, got)
		}
		if got, want := p.Text("answer.yes", nil), "Yes"; got != want {
			t.Errorf("Printer(%q).Text(answer.yes) = %q, want %q", lang, got, want)
		}
	}
	for _, lang := range c.Languages() {
		if got := c.Printer(lang).Lang(); got != lang {
			t.Errorf("Printer(%q).Lang() = %q", lang, got)
		}
	}
}

// TestEnglishFallback loads catalogs where Swedish and Danish lack messages
// that English has, and checks that those are printed in English.
func TestEnglishFallback(t *testing.T) {
	fsys := fstest.MapFS{
		"catalog/en.yaml": {Data: []byte(`
only.english: "Hello {{.Name}}"
only.plural:
  one: "{{.Count}} apple"
  other: "{{.Count}} apples"
both: "Both"
`)},
		"catalog/sv.yaml": {Data: []byte(`both: "Båda"`)},
		"catalog/da.yaml": {Data: []byte(`both: "Begge"`)},
	}
	c, err := load(fsys)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	tests := []struct {
		lang string
		got  string
		want string
	}{
		{"sv", c.Printer("sv").Text("only.english", map[string]any{"Name": "Eva"}), "Hello Eva"},
		{"da", c.Printer("da").Plural("only.plural", 1, nil), "1 apple"},
		{"da", c.Printer("da").Plural("only.plural", 3, nil), "3 apples"},
		{"sv", c.Printer("sv").Text("both", nil), "Båda"},
		{"da", c.Printer("da").Text("both", nil), "Begge"},
		{"sv", c.Printer("sv").Text("nowhere", nil), "nowhere"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.lang, tt.got, tt.want)
		}
	}
	if got, want := c.MessageIDs("sv"), []string{"both"}; !slices.Equal(got, want) {
		t.Errorf("MessageIDs(sv) = %v, want %v", got, want)
	}
	if got, want := c.MessageIDs("en"), []string{"both", "only.english", "only.plural"}; !slices.Equal(got, want) {
		t.Errorf("MessageIDs(en) = %v, want %v", got, want)
	}
}

func TestLoadErrors(t *testing.T) {
	good := []byte(`a.b: "x"`)
	tests := []struct {
		name string
		sv   []byte // nil: file missing
		want string // in the error
	}{
		{"missing file", nil, "read catalog sv"},
		{"empty file", []byte(""), "no messages"},
		{"duplicate key", []byte("a.b: \"x\"\na.b: \"y\"\n"), "already defined"},
		{"unquoted template", []byte("a.b: {{.X}}\n"), "parse catalog catalog/sv.yaml"},
		{"mixed keys", []byte("a.b:\n  one: \"x\"\n  c: \"y\"\n"), "reserved keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{
				"catalog/en.yaml": {Data: good},
				"catalog/da.yaml": {Data: good},
			}
			if tt.sv != nil {
				fsys["catalog/sv.yaml"] = &fstest.MapFile{Data: tt.sv}
			}
			_, err := load(fsys)
			if err == nil {
				t.Fatalf("load: no error, want one containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("load: error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	c := newCatalog(t)
	tests := []struct {
		tags []string
		want string
	}{
		{[]string{"sv-SE"}, "sv"},
		{[]string{"sv"}, "sv"},
		{[]string{"sv-FI"}, "sv"},
		{[]string{"sv_SE"}, "sv"}, // underscores, as some clients send them
		{[]string{"da-DK"}, "da"},
		{[]string{"da"}, "da"},
		{[]string{"en-US"}, "en"},
		{[]string{"en-GB"}, "en"},
		{[]string{"EN-gb"}, "en"},
		{[]string{""}, "en"},
		{nil, "en"},
		{[]string{"de"}, "en"},
		{[]string{"fi"}, "en"},
		{[]string{"not a tag!"}, "en"},
		// golang.org/x/text rates Norwegian Bokmål (and the macro-language
		// "no") as close to Danish, and Faroese too. It does not do so for
		// Nynorsk ("nn"), which falls back to English.
		{[]string{"nb"}, "da"},
		{[]string{"nb-NO"}, "da"},
		{[]string{"no"}, "da"},
		{[]string{"fo"}, "da"},
		{[]string{"nn"}, "en"},
		// Accept-Language values and several tags: earlier wins.
		{[]string{"da-DK,da;q=0.9,en;q=0.8"}, "da"},
		{[]string{"de-DE,de;q=0.9,sv;q=0.5"}, "sv"},
		{[]string{"de", "da"}, "da"},
		{[]string{"en", "sv"}, "en"},
		{[]string{"", "sv"}, "sv"},
	}
	for _, tt := range tests {
		if got := c.Match(tt.tags...); got != tt.want {
			t.Errorf("Match(%q) = %q, want %q", tt.tags, got, tt.want)
		}
	}
}

func TestDate(t *testing.T) {
	c := newCatalog(t)
	friday := time.Date(2027, time.January, 15, 12, 0, 0, 0, time.UTC)
	// 00:30 in Stockholm on 15 January is still 14 January in UTC:
	// Date must use the time's own zone.
	stockholm := time.Date(2027, time.January, 15, 0, 30, 0, 0, time.FixedZone("CET", 3600))
	sunday := time.Date(2026, time.May, 31, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		lang string
		t    time.Time
		want string
	}{
		{"sv", friday, "fredag 15 januari 2027"},
		{"da", friday, "fredag den 15. januar 2027"},
		{"en", friday, "Friday 15 January 2027"},
		{"sv", stockholm, "fredag 15 januari 2027"},
		{"sv", sunday, "söndag 31 maj 2026"},
		{"da", sunday, "søndag den 31. maj 2026"},
		{"en", sunday, "Sunday 31 May 2026"},
		{"xx", friday, "Friday 15 January 2027"},
	}
	for _, tt := range tests {
		if got := c.Printer(tt.lang).Date(tt.t); got != tt.want {
			t.Errorf("Printer(%q).Date(%s) = %q, want %q", tt.lang, tt.t, got, tt.want)
		}
	}
}

// TestDateAllNames renders every weekday and month in every language and
// checks that none falls back to a message id.
func TestDateAllNames(t *testing.T) {
	c := newCatalog(t)
	for _, lang := range c.Languages() {
		p := c.Printer(lang)
		for m := time.January; m <= time.December; m++ {
			// The first 7 days of any month cover every weekday.
			for d := 1; d <= 7; d++ {
				got := p.Date(time.Date(2027, m, d, 12, 0, 0, 0, time.UTC))
				if strings.Contains(got, "weekday.") || strings.Contains(got, "month.") || strings.Contains(got, "<no value>") {
					t.Errorf("%s: Date(2027-%02d-%02d) = %q", lang, m, d, got)
				}
			}
		}
	}
}

func TestConcurrentPrinting(t *testing.T) {
	c := newCatalog(t)
	day := time.Date(2027, time.January, 15, 12, 0, 0, 0, time.UTC)
	render := func(p *Printer, i int) string {
		return fmt.Sprintf("%s|%s|%s|%s",
			p.Text("explain.title", map[string]any{"Issuer": i}),
			p.Plural("period.working_days", i, nil),
			p.Date(day.AddDate(0, 0, i)),
			p.Text("no.such_message", nil),
		)
	}
	const iterations = 50
	want := map[string][]string{}
	for _, lang := range c.Languages() {
		for i := range iterations {
			want[lang] = append(want[lang], render(c.Printer(lang), i))
		}
	}

	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			lang := c.Languages()[g%3]
			p := c.Printer(c.Match(lang))
			for i := range iterations {
				if got := render(p, i); got != want[lang][i] {
					t.Errorf("goroutine %d, %s, %d: got %q, want %q", g, lang, i, got, want[lang][i])
				}
			}
		})
	}
	wg.Wait()
}

func TestMoneyAndDayISO(t *testing.T) {
	c := newCatalog(t)
	day := time.Date(2027, time.January, 15, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		lang, money, day string
	}{
		{"sv", "2\u00a0000 SEK", "fredag 2027-01-15"},
		{"da", "2.000 DKK", "fredag 2027-01-15"},
		{"en", "2,000 SEK", "Friday 2027-01-15"},
	}
	for _, tt := range tests {
		p := c.Printer(tt.lang)
		currency := "SEK"
		if tt.lang == "da" {
			currency = "DKK"
		}
		if got := p.Money(2000, currency); got != tt.money {
			t.Errorf("%s Money = %q, want %q", tt.lang, got, tt.money)
		}
		if got := p.DayISO(day); got != tt.day {
			t.Errorf("%s DayISO = %q, want %q", tt.lang, got, tt.day)
		}
	}
	en := c.Printer("en")
	sv := c.Printer("sv")
	for n, want := range map[int]string{0: "0", 150: "150", 1000: "1,000", 1234567: "1,234,567", -29600: "-29,600"} {
		if got := en.Money(n, "SEK"); got != want+" SEK" {
			t.Errorf("en Money(%d) = %q, want %q", n, got, want+" SEK")
		}
		// CLDR's Swedish minus is U+2212.
		svWant := strings.NewReplacer(",", "\u00a0", "-", "\u2212").Replace(want) + " SEK"
		if got := sv.Money(n, "SEK"); got != svWant {
			t.Errorf("sv Money(%d) = %q, want %q", n, got, svWant)
		}
	}
}
