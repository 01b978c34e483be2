package policies

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func readMini(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/mini-se.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// edit is one change to a valid policy and the problem it must cause, on
// the line where the new text lands.
type edit struct {
	old, new string
	want     string // substring of the problem message
	at       string // a substring of new that marks the problem's line; default new
}

// apply makes the edits and returns the text with the expected line of each.
func apply(t *testing.T, src string, edits []edit) (string, []int) {
	t.Helper()
	for _, e := range edits {
		if !strings.Contains(src, e.old) {
			t.Fatalf("test edit: %q not in source", e.old)
		}
		src = strings.Replace(src, e.old, e.new, 1)
	}
	lines := make([]int, len(edits))
	for i, e := range edits {
		mark := e.at
		if mark == "" {
			mark = e.new
		}
		idx := strings.LastIndex(src, mark)
		if idx < 0 {
			t.Fatalf("test edit: mark %q not in result", mark)
		}
		lines[i] = strings.Count(src[:idx], "\n") + 1 + strings.Count(mark[:len(mark)-len(strings.TrimLeft(mark, "\n"))], "\n")
	}
	return src, lines
}

func TestCheckValidPolicy(t *testing.T) {
	set, problems := Check([]File{{Name: "testdata/mini-se.yaml", Data: []byte(readMini(t))}})
	if len(problems) != 0 {
		t.Fatalf("problems in a valid policy:\n%v", problems)
	}
	p, ok := set.Get("mini-se")
	if !ok {
		t.Fatal("mini-se not in set")
	}
	if got, want := len(p.Version), 12; got != want {
		t.Errorf("version %q has %d hex digits, want %d", p.Version, got, want)
	}
	if p.File != "testdata/mini-se.yaml" {
		t.Errorf("File = %q", p.File)
	}
}

func TestDecodeErrorsHaveLineAndColumn(t *testing.T) {
	tests := []struct {
		name string
		edit edit
		col  int
	}{
		{"unknown key", edit{old: "case_prefix: MINI\n", new: "case_prefix: MINI\nescalate: true\n", want: `unknown key "escalate"`, at: "escalate: true"}, 1},
		{"wrong type", edit{old: "period: {working_days: 15}", new: "period: {working_days: fifteen}", want: "want a whole number, got fifteen", at: "fifteen"}, 0},
		{"duplicate key", edit{old: "country: SE\n", new: "country: SE\ncountry: DK\n", want: `mapping key "country" already defined`, at: "country: DK"}, 1},
		{"syntax error", edit{old: "  sv: Mini Bank\n", new: "  sv: [Mini Bank\n", want: "", at: "[Mini Bank"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, lines := apply(t, readMini(t), []edit{tt.edit})
			set, problems := Check([]File{{Name: "mini-se.yaml", Data: []byte(src)}})
			if set != nil {
				t.Fatal("Check returned a set for a broken file")
			}
			errs := problems.Errors()
			if len(errs) != 1 {
				t.Fatalf("got %d errors, want 1:\n%v", len(errs), errs)
			}
			p := errs[0]
			if !strings.Contains(p.Message, tt.edit.want) {
				t.Errorf("message %q does not contain %q", p.Message, tt.edit.want)
			}
			// A syntax error may be reported where the parser gave up: on
			// the edited line or just after it.
			if p.Line != lines[0] && !(tt.name == "syntax error" && p.Line > lines[0]) {
				t.Errorf("line = %d, want %d (%s)", p.Line, lines[0], p)
			}
			if tt.col != 0 && p.Column != tt.col {
				t.Errorf("column = %d, want %d", p.Column, tt.col)
			}
			if !strings.HasPrefix(p.String(), "mini-se.yaml:") || p.Source == "" || !strings.Contains(p.Excerpt(), "^") {
				t.Errorf("problem lacks file:line:col or the offending line: %q\n%s", p.String(), p.Excerpt())
			}
		})
	}
}

// One run shows every mistake of a file: each unknown key with the key it
// was probably meant to be, each mistyped value, and the checks that
// follow, each at its own line.
func TestEveryMistakeOfAFileAtOnce(t *testing.T) {
	src, lines := apply(t, readMini(t), []edit{
		{old: "case_prefix: MINI\n", new: "case_prefix: MINI\nreviwed: \"2026-11-01\"\n", want: `unknown key "reviwed" (did you mean "reviewed"?)`, at: "reviwed"},
		{old: "period: {working_days: 15}", new: "period: {working_days: fifteen}", want: "working_days", at: "fifteen"},
		{old: "country: SE\n", new: "country: SE\nlanguges: [sv]\n", want: `unknown key "languges" (did you mean "languages"?)`, at: "languges"},
		{old: "time_zone: Europe/Stockholm", new: "time_zone: Europe/Stokholm", want: "unknown time zone"},
	})
	_, problems := Check([]File{{Name: "mini-se.yaml", Data: []byte(src)}})
	errs := problems.Errors()
	if len(errs) != 4 {
		t.Fatalf("got %d errors, want the 4 made:\n%v", len(errs), errs)
	}
	for i, want := range []string{`unknown key "reviwed" (did you mean "reviewed"?)`, "working_days", `unknown key "languges" (did you mean "languages"?)`, "unknown time zone"} {
		found := false
		for _, p := range errs {
			found = found || (strings.Contains(p.Message, want) && p.Line == lines[i])
		}
		if !found {
			t.Errorf("no error %q on line %d:\n%v", want, lines[i], errs)
		}
	}
}

func TestTabIndentAndImpossibleDates(t *testing.T) {
	src := strings.Replace(readMini(t), "\n  sv: ", "\n\tsv: ", 1)
	_, problems := Check([]File{{Name: "mini-se.yaml", Data: []byte(src)}})
	if errs := problems.Errors(); len(errs) != 1 || !strings.Contains(errs[0].Message, "indented with a tab") || errs[0].Column != 1 {
		t.Errorf("tab indent: %v", errs)
	}
	src = strings.Replace(readMini(t), "case_prefix: MINI\n", "case_prefix: MINI\nreviewed: \"2026-11-31\"\n", 1)
	_, problems = Check([]File{{Name: "mini-se.yaml", Data: []byte(src)}})
	if errs := problems.Errors(); len(errs) != 1 || !strings.Contains(errs[0].Message, "November 2026 has 30 days") {
		t.Errorf("2026-11-31: %v", errs)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	edits := []edit{
		{old: "  en: Mini Bank\n", new: "", want: `name: missing "en" translation`, at: "name:"},
		{old: "country: SE", new: "country: NO", want: `unknown country "NO"`},
		{old: "time_zone: Europe/Stockholm", new: "time_zone: Mars/Olympus", want: `unknown time zone "Mars/Olympus"`},
		{old: "after_step: complaints", new: "after_step: klagomal", want: `step "klagomal" is not defined`},
		{old: "period: {years: 1}", new: "period: {years: 0}", want: "set one of working_days", at: "period: {years: 0}"},
		{old: `pattern: "[0-9]{6}"`, new: `pattern: "[0-9"`, want: "invalid pattern"},
		{old: "ask_if: {field: wants_money", new: "ask_if: {field: wants_cash", want: `field "wants_cash" is not defined`, at: "ask_if:"},
		{old: "  - id: complaints\n", new: "  - id: customer_service\n", want: `duplicate id "customer_service"`, at: "id: customer_service\n    kind: complaints"},
		{old: "period: {working_days: 15}", new: "period: {working_days: -3}", want: "must be greater than 0, got -3"},
		{old: "type: long_text", new: "type: essay", want: `unknown type "essay"`},
		{old: "languages: [sv, en]", new: "languages: [sv, en, fi]", want: `unsupported language "fi"`},
	}
	src, lines := apply(t, readMini(t), edits)
	set, problems := Check([]File{{Name: "mini-se.yaml", Data: []byte(src)}})
	if set != nil {
		t.Fatal("Check returned a set for a broken file")
	}
	errs := problems.Errors()
	for i, e := range edits {
		found := false
		for _, p := range errs {
			if strings.Contains(p.Message, e.want) {
				found = true
				if p.Line != lines[i] {
					t.Errorf("%q reported at line %d, want %d", e.want, p.Line, lines[i])
				}
			}
		}
		if !found {
			t.Errorf("no problem %q; got:\n%v", e.want, errs)
		}
	}
	for i := 1; i < len(errs); i++ {
		if errs[i].Line < errs[i-1].Line {
			t.Errorf("problems not in file order: %v before %v", errs[i-1], errs[i])
		}
	}
}

func TestCheckAcrossFiles(t *testing.T) {
	mini := readMini(t)
	twin := strings.Replace(mini, "id: mini-se", "id: mini-two", 1)
	_, problems := Check([]File{
		{Name: "a/mini-se.yaml", Data: []byte(mini)},
		{Name: "b/mini-se.yaml", Data: []byte(mini)},
		{Name: "b/mini-two.yaml", Data: []byte(twin)},
	})
	var wants = []string{`policy id "mini-se" is already used by a/mini-se.yaml`, `case_prefix "MINI" is already used`}
	for _, want := range wants {
		if !strings.Contains(problems.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, problems.Error())
		}
	}
	_, problems = Check([]File{{Name: "other.yaml", Data: []byte(mini)}})
	if !strings.Contains(problems.Error(), `must match the file name "other"`) {
		t.Errorf("id/file name mismatch not reported:\n%v", problems.Error())
	}
}

func TestLintWarningsDoNotBlock(t *testing.T) {
	edits := []edit{
		{old: "description: {sv: Nämnden., en: The board.}", new: "description: {sv: Nämnden., en: Or use the ODR platform at https://ec.europa.eu/consumers/odr.}", want: "EU ODR platform", at: "description: {sv: Nämnden., en: Or use"},
		{old: "    contact:\n      phone: 08-123 45 67\n", new: "    contact: {}\n", want: "has no address, email, phone or web", at: "contact: {}"},
		{old: "period: {working_days: 15}\n        extension:\n          period: {working_days: 35}", new: "period: {working_days: 20}\n        extension:\n          period: {calendar_days: 60}", want: "longer than PSD2", at: "period: {working_days: 20}"},
		{old: "requires_holding_reply: true", new: "requires_holding_reply: false", want: "set requires_holding_reply", at: "extension:"},
	}
	src, lines := apply(t, readMini(t), edits)
	set, problems := Check([]File{{Name: "mini-se.yaml", Data: []byte(src)}})
	if set == nil {
		t.Fatalf("warnings blocked the set:\n%v", problems)
	}
	warnings := set.Warnings()
	for i, e := range edits {
		found := false
		for _, w := range warnings {
			if strings.Contains(w.Message, e.want) && w.Line == lines[i] {
				found = true
			}
		}
		if !found {
			t.Errorf("no warning %q at line %d; got:\n%v", e.want, lines[i], warnings)
		}
	}
	if !strings.Contains(warningsText(warnings), "60 calendar_days may end after PSD2 Art. 101's 35 business days") {
		t.Errorf("a calendar-day extension longer than PSD2's limit not flagged:\n%v", warningsText(warnings))
	}
	for _, w := range warnings {
		if !strings.Contains(w.String(), ": warning: ") {
			t.Errorf("warning not marked as such: %s", w)
		}
	}
}

func warningsText(ps Problems) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.String() + "\n")
	}
	return b.String()
}

func TestVersionIsContentHash(t *testing.T) {
	mini := readMini(t)
	load := func(src string) string {
		t.Helper()
		set, problems := Check([]File{{Name: "mini-se.yaml", Data: []byte(src)}})
		if set == nil {
			t.Fatal(problems)
		}
		p, _ := set.Get("mini-se")
		return p.Version
	}
	a, b := load(mini), load(mini)
	c := load(strings.Replace(mini, "Ring oss.", "Ring oss gärna.", 1))
	if a != b {
		t.Errorf("same content, versions %s and %s", a, b)
	}
	if a == c {
		t.Errorf("changed content kept version %s", a)
	}
}

func TestLoadFS(t *testing.T) {
	fsys := fstest.MapFS{
		"mini-se.yaml":  {Data: []byte(readMini(t))},
		".mini.swp":     {Data: []byte("garbage")},
		"README.md":     {Data: []byte("# not a policy")},
		"sub/x.yaml":    {Data: []byte("garbage: [")},
		".tmp-123.yaml": {Data: []byte("garbage: [")},
	}
	set, err := Load(fsys, "dir")
	if err != nil {
		t.Fatal(err)
	}
	if got := set.IDs(); len(got) != 1 || got[0] != "mini-se" {
		t.Errorf("IDs = %v, want [mini-se]", got)
	}
	if _, err := Load(fstest.MapFS{}, "empty"); err == nil {
		t.Error("an empty folder loaded without error")
	}
	if _, err := Load(fstest.MapFS{"mini-se.yaml": {Data: []byte("id: [")}}, "bad"); err == nil {
		t.Error("a broken folder loaded without error")
	}
}

func TestPlan(t *testing.T) {
	set, problems := Check([]File{{Name: "mini-se.yaml", Data: []byte(readMini(t))}})
	if set == nil {
		t.Fatal(problems)
	}
	p, _ := set.Get("mini-se")
	received := time.Date(2026, 12, 18, 9, 0, 0, 0, time.UTC)
	plan := p.Plan(received, mustDate(t, "2026-11-02"))
	complaints := plan.Steps[1]
	if got := complaints.Deadlines[0].Due.Date.String(); got != "2027-01-15" {
		t.Errorf("decision due %s, want 2027-01-15", got)
	}
	if got := complaints.Deadlines[0].Extended.Date.String(); got != "2027-02-12" {
		t.Errorf("extended due %s, want 2027-02-12", got)
	}
	arn := plan.Steps[2]
	if got := arn.Deadlines[0].Due.Date.String(); got != "2027-11-02" {
		t.Errorf("ARN file-by %s, want 2027-11-02 (one year from the first complaint)", got)
	}
	if got := arn.NoAnswerBy.Date.String(); got != "2027-01-15" {
		t.Errorf("ARN opens by %s, want 2027-01-15", got)
	}
	if plan.FirstComplaintAssumed {
		t.Error("first complaint given, but marked assumed")
	}
	if !p.Plan(received, Date{}).FirstComplaintAssumed {
		t.Error("no first complaint, but not marked assumed")
	}
}

func TestCheckRejectsEmptyAndMultiDocumentFiles(t *testing.T) {
	for name, src := range map[string]string{
		"empty":         "",
		"comment only":  "# nothing here\n",
		"two documents": readMini(t) + "---\nid: other\n",
	} {
		set, problems := Check([]File{{Name: "mini-se.yaml", Data: []byte(src)}})
		if set != nil || !strings.Contains(problems.Error(), "mini-se.yaml:1:1: want exactly one YAML document") {
			t.Errorf("%s: problems = %v, want one-document error at 1:1", name, problems)
		}
	}
}

func TestContactChannelsAreChecked(t *testing.T) {
	edits := []edit{
		{old: "email: klagomal@example.se", new: "email: klagomal.example.se", want: "is not an e-mail address"},
		{old: "web: https://www.arn.se", new: "web: www.arn.se", want: "must be a web address starting with https://"},
	}
	src, lines := apply(t, readMini(t), edits)
	_, problems := Check([]File{{Name: "mini-se.yaml", Data: []byte(src)}})
	for i, e := range edits {
		found := false
		for _, p := range problems.Errors() {
			found = found || (strings.Contains(p.Message, e.want) && p.Line == lines[i])
		}
		if !found {
			t.Errorf("no error %q at line %d:\n%v", e.want, lines[i], problems)
		}
	}
}

// FuzzCheck feeds Check broken policies: it must report problems, never
// panic, and never return a set with errors in it.
func FuzzCheck(f *testing.F) {
	mini, err := os.ReadFile("testdata/mini-se.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(mini)
	f.Add([]byte("id: x\n\tname: y\n"))
	f.Add([]byte("a: &x {b: 1}\nc: *x\n<<: *x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		set, problems := Check([]File{{Name: "mini-se.yaml", Data: data}})
		if set != nil && len(problems.Errors()) > 0 {
			t.Fatalf("a set with errors: %v", problems.Errors())
		}
		if set == nil && len(problems.Errors()) == 0 {
			t.Fatal("no set and no error")
		}
	})
}
