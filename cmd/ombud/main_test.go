package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"ombud/policies"
)

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	return runIn(t, env, "", args...)
}

func runIn(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &Env{
		Stdin:  strings.NewReader(stdin),
		Stdout: &stdout,
		Stderr: &stderr,
		Getenv: func(k string) string { return env[k] },
		Now:    func() time.Time { return time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC) },
	}
	code := Run(context.Background(), e, args)
	return result{code, stdout.String(), stderr.String()}
}

func TestDeadlineCommand(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--country", "SE", "--from", "2026-12-18", "--working-days", "15"}, "2027-01-15\n"},
		{[]string{"--country", "DK", "--from", "2026-12-18", "--working-days", "15"}, "2027-01-14\n"},
		{[]string{"--country", "se", "--from", "2026-06-18", "--working-days", "1"}, "2026-06-22\n"},
		{[]string{"--country", "DK", "--from", "2027-05-05", "--working-days", "1", "--friday-after-ascension"}, "2027-05-10\n"},
		{[]string{"--country", "SE", "--from", "2026-12-18", "--calendar-days", "14"}, "2027-01-01\n"},
		{[]string{"--from=2026-12-19", "--country=SE", "--working-days=35"}, "2027-02-12\n"},
	}
	for _, tt := range tests {
		got := run(t, nil, append([]string{"deadline"}, tt.args...)...)
		if got.code != 0 || got.stdout != tt.want {
			t.Errorf("deadline %v = %d %q (stderr %q), want 0 %q", tt.args, got.code, got.stdout, got.stderr, tt.want)
		}
	}
}

func TestDeadlineCommandBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--country", "NO", "--from", "2026-12-18", "--working-days", "15"}, "want SE or DK"},
		{[]string{"--country", "SE", "--from", "2026-02-30", "--working-days", "15"}, "--from: want a date"},
		{[]string{"--country", "SE", "--from", "2026-12-18"}, "give --working-days N or --calendar-days N"},
		{[]string{"--country", "SE", "--from", "2026-12-18", "--working-days", "-1"}, "greater than 0"},
		{[]string{"--country", "SE", "--from", "2026-12-18", "--working-days", "1", "--calendar-days", "1"}, "not both"},
		{[]string{"--country", "SE", "--from", "2026-12-18", "--working-days", "ten"}, "invalid value"},
		{[]string{"--bogus"}, "flag provided but not defined"},
		{[]string{"--country", "SE", "--from", "2026-12-18", "--working-days", "1", "extra"}, "unexpected argument"},
	}
	for _, tt := range tests {
		got := run(t, nil, append([]string{"deadline"}, tt.args...)...)
		if got.code != 2 || got.stdout != "" || !strings.Contains(got.stderr, tt.want) {
			t.Errorf("deadline %v = %d stdout %q stderr %q; want exit 2 and %q", tt.args, got.code, got.stdout, got.stderr, tt.want)
		}
	}
}

func TestPolicyCheckBundled(t *testing.T) {
	got := run(t, nil, "policy", "check")
	if got.code != 0 || !strings.Contains(got.stdout, "5 files checked: 0 errors, 0 warnings") {
		t.Fatalf("policy check = %d\n%s%s", got.code, got.stdout, got.stderr)
	}
}

func TestPolicyCheckBrokenCopy(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "policies", "amex-se.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(src), "country: SE", "country: SE\ncountry: SE", 1)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "amex-se.yaml"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	semantic := strings.Replace(string(src), "time_zone: Europe/Stockholm", "time_zone: Europe/Stokholm", 1)
	semantic = strings.Replace(semantic, "case_prefix: AXSE", "case_prefix: axse", 1)
	if err := os.WriteFile(filepath.Join(dir, "other.yaml"), []byte(semantic), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, args := range [][]string{{"policy", "check", dir}, {"policy", "check"}} {
		got := run(t, map[string]string{"OMBUD_POLICIES_DIR": dir}, args...)
		if got.code != 1 {
			t.Fatalf("%v exit = %d, want 1\n%s", args, got.code, got.stdout)
		}
		for _, want := range []*regexp.Regexp{
			regexp.MustCompile(`amex-se\.yaml:\d+:1: mapping key "country" already defined`),
			regexp.MustCompile(`other\.yaml:\d+:\d+: time_zone: unknown time zone "Europe/Stokholm"`),
			regexp.MustCompile(`other\.yaml:\d+:\d+: case_prefix: "axse" must be 2 to 6 capital letters`),
			regexp.MustCompile(`other\.yaml:\d+:\d+: id: "amex-se" must match the file name "other"`),
			regexp.MustCompile(`\n\s+\d+ \| time_zone: Europe/Stokholm\n`),
			regexp.MustCompile(`2 files checked: 4 errors, 0 warnings`),
		} {
			if !want.MatchString(got.stdout) {
				t.Errorf("%v output lacks %s:\n%s", args, want, got.stdout)
			}
		}
	}
}

func TestPolicyExplain(t *testing.T) {
	got := run(t, nil, "policy", "explain", "amex-se", "--received", "2026-12-18", "--lang", "sv")
	if got.code != 0 {
		t.Fatalf("explain exit %d: %s", got.code, got.stderr)
	}
	for _, want := range []string{
		"Så klagar du på American Express",
		"fredag 2026-12-18",
		"senast fredag 2027-01-15 (15 arbetsdagar)",
		": fredag 2027-02-12 (35 arbetsdagar)",
		"Allmänna reklamationsnämnden",
		"Avgift: 150 SEK",
		"måndag 2027-12-20 (1 år)", // one year from the first complaint, off a Saturday
	} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("explain output lacks %q:\n%s", want, got.stdout)
		}
	}
}

// Every policy explains cleanly in every language it offers: no missing
// message ids, no empty template values.
func TestPolicyExplainAllPoliciesAllLanguages(t *testing.T) {
	set, err := policies.Load(policies.Bundled(), policies.BundledDir)
	if err != nil {
		t.Fatal(err)
	}
	leaked := regexp.MustCompile(`<no value>|\b(explain|period|date|lang|number)\.[a-z_.]+\b`)
	for _, p := range set.All() {
		for _, lang := range p.Languages {
			got := run(t, nil, "policy", "explain", p.ID, "--lang", lang, "--received", "2026-12-18", "--first-complaint", "2026-11-02")
			if got.code != 0 {
				t.Errorf("explain %s --lang %s: exit %d: %s", p.ID, lang, got.code, got.stderr)
				continue
			}
			if m := leaked.FindString(got.stdout); m != "" {
				t.Errorf("explain %s --lang %s shows %q:\n%s", p.ID, lang, m, got.stdout)
			}
			if !strings.Contains(got.stdout, p.Version) {
				t.Errorf("explain %s does not show the policy version %s", p.ID, p.Version)
			}
		}
	}
}

func TestPolicyExplainBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"nordea"}, `unknown issuer "nordea"`},
		{[]string{"amex-se", "--lang", "da"}, `amex-se is offered in sv, en, not "da"`},
		{[]string{"amex-se", "--received", "18/12/2026"}, "--received: want YYYY-MM-DD"},
		{[]string{"amex-se", "--received", "2026-12-18", "--first-complaint", "2027-01-01"}, "after the day of receipt"},
		{[]string{}, "name one issuer"},
	}
	for _, tt := range tests {
		got := run(t, nil, append([]string{"policy", "explain"}, tt.args...)...)
		if got.code != 2 || !strings.Contains(got.stderr, tt.want) {
			t.Errorf("explain %v = %d %q, want 2 and %q", tt.args, got.code, got.stderr, tt.want)
		}
	}
}

func TestHelp(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"help"}, "Commands:"},
		{[]string{"--help"}, "Commands:"},
		{[]string{"help", "deadline"}, "Usage: ombud deadline"},
		{[]string{"deadline", "--help"}, "--working-days"},
		{[]string{"policy", "--help"}, "Usage: ombud policy"},
		{[]string{"policy", "explain", "--help"}, "--received"},
		{[]string{"help", "policy"}, "explain"},
		{[]string{"help", "complaints"}, "Usage: ombud complaints list"},
		{[]string{"complaints", "--help"}, "--status"},
		{[]string{"help", "chat"}, "/attach"},
	}
	for _, tt := range tests {
		got := run(t, nil, tt.args...)
		if got.code != 0 || !strings.Contains(got.stdout, tt.want) {
			t.Errorf("%v = %d %q, want 0 and %q", tt.args, got.code, got.stdout, tt.want)
		}
		// Help is help: no error line before it, no subcommand twice.
		if got.stderr != "" || strings.Contains(got.stdout, "list list") {
			t.Errorf("%v: stderr %q, stdout %q", tt.args, got.stderr, firstLine(got.stdout))
		}
	}
	for _, args := range [][]string{{}, {"frobnicate"}, {"help", "frobnicate"}} {
		if got := run(t, nil, args...); got.code != 2 {
			t.Errorf("%v exit %d, want 2", args, got.code)
		}
	}
}
