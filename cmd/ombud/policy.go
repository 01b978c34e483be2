package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"ombud/dialog"
	"ombud/locales"
	"ombud/policies"
)

func runPolicy(ctx context.Context, env *Env, args []string) int {
	const synopsis = "check [PATH...] | explain ISSUER [--received DATE] [--lang L]"
	if len(args) > 0 {
		switch args[0] {
		case "check":
			return runPolicyCheck(env, args[1:])
		case "explain":
			return runPolicyExplain(env, args[1:])
		}
	}
	fs := newFlags(env, "policy", synopsis,
		"  check    report every problem in policy files as file:line:col: message\n"+
			"  explain  print an issuer's escalation ladder with every date computed")
	if _, code, ok := parseFlags(env, fs, args); !ok {
		return code
	}
	if len(args) == 0 {
		return usageError(env, fs, "say check or explain")
	}
	return usageError(env, fs, "unknown subcommand %q", args[0])
}

// policiesDir is the folder that overrides the embedded policies, if any.
func policiesDir(env *Env, flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	return env.Getenv("OMBUD_POLICIES_DIR")
}

func runPolicyCheck(env *Env, args []string) int {
	fs := newFlags(env, "policy check", "[PATH...]",
		"Checks policy files and folders (default: $OMBUD_POLICIES_DIR, else the embedded\n"+
			"policies). Prints each problem as file:line:col: message with the offending line;\n"+
			"exits 1 if any problem is an error. Warnings do not fail the check, nor do the\n"+
			"facts a person must still confirm (a source's confirm:), which are listed last.")
	paths, code, ok := parseFlags(env, fs, args)
	if !ok {
		return code
	}
	files, err := readPolicyFiles(paths, policiesDir(env, ""))
	if err != nil {
		fmt.Fprintf(env.Stderr, "ombud policy check: %v\n", err)
		return exitUsage
	}
	_, problems := policies.CheckAsOf(files, policies.DateOf(env.Now(), time.UTC))
	for _, p := range append(append(problems.Errors(), problems.Warnings()...), problems.Confirms()...) {
		fmt.Fprintln(env.Stdout, p.String())
		if ex := p.Excerpt(); ex != "" && p.Severity != policies.Confirm {
			fmt.Fprintln(env.Stdout, ex)
		}
	}
	errs, warns, confirms := len(problems.Errors()), len(problems.Warnings()), len(problems.Confirms())
	fmt.Fprintf(env.Stdout, "%d %s checked: %d %s, %d %s, %d to confirm\n",
		len(files), plural(len(files), "file", "files"), errs, plural(errs, "error", "errors"), warns, plural(warns, "warning", "warnings"), confirms)
	if errs > 0 {
		return exitProblems
	}
	return exitOK
}

// readPolicyFiles reads the named files and the policy files in the named
// folders; with no paths, the override folder or the embedded policies.
func readPolicyFiles(paths []string, overrideDir string) ([]policies.File, error) {
	if len(paths) == 0 && overrideDir == "" {
		return policies.ReadFiles(policies.Bundled(), policies.BundledDir)
	}
	if len(paths) == 0 {
		paths = []string{overrideDir}
	}
	var files []policies.File
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if info.IsDir() {
			more, err := policies.ReadFiles(os.DirFS(p), p)
			if err != nil {
				return nil, err
			}
			if len(more) == 0 {
				return nil, fmt.Errorf("%s: no policy files (*.yaml)", p)
			}
			files = append(files, more...)
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		files = append(files, policies.File{Name: p, Data: data})
	}
	return files, nil
}

func runPolicyExplain(env *Env, args []string) int {
	fs := newFlags(env, "policy explain", "ISSUER [--received DATE] [--first-complaint DATE] [--lang L] [--sources]",
		"Prints the issuer's escalation ladder in one language with every date computed\n"+
			"for a complaint received on DATE (YYYY-MM-DD, or an RFC 3339 time; default now).")
	received := fs.String("received", "", "when the complaint is received: YYYY-MM-DD or 2026-12-18T14:30:00+01:00")
	first := fs.String("first-complaint", "", "when the consumer first complained to the issuer (YYYY-MM-DD); default: the day of receipt")
	lang := fs.String("lang", "", "sv, da or en (default: the policy's first language)")
	dir := fs.String("dir", "", "policy folder (default: $OMBUD_POLICIES_DIR, else the embedded policies)")
	sources := fs.Bool("sources", false, "print where each fact comes from, when it was checked, and what is still to confirm")
	rest, code, ok := parseFlags(env, fs, args)
	if !ok {
		return code
	}
	if len(rest) != 1 {
		return usageError(env, fs, "name one issuer, such as amex-se")
	}
	set, err := loadSet(env, *dir)
	if err != nil {
		fmt.Fprintf(env.Stderr, "ombud policy explain: the policies have errors; run ombud policy check\n%v\n", err)
		return exitProblems
	}
	pol, found := set.Get(rest[0])
	if !found {
		return usageError(env, fs, "unknown issuer %q (known: %s)", rest[0], strings.Join(set.IDs(), ", "))
	}
	if *lang == "" {
		*lang = pol.Languages[0]
	}
	if !pol.Offers(*lang) {
		return usageError(env, fs, "%s is offered in %s, not %q", pol.ID, strings.Join(pol.Languages, ", "), *lang)
	}
	at, err := parseInstant(*received, env.Now(), pol.Clock().Location())
	if err != nil {
		return usageError(env, fs, "--received: %v", err)
	}
	var firstDate policies.Date
	if *first != "" {
		if firstDate, err = policies.ParseDate(*first); err != nil {
			return usageError(env, fs, "--first-complaint: want a date like 2026-11-02, got %q", *first)
		}
		if firstDate.After(pol.Clock().LocalDate(at)) {
			return usageError(env, fs, "--first-complaint %s is after the day of receipt", firstDate)
		}
	}
	catalog, err := locales.New()
	if err != nil {
		fmt.Fprintf(env.Stderr, "ombud policy explain: %v\n", err)
		return exitProblems
	}
	dialog.Explain(env.Stdout, catalog.Printer(*lang), pol, pol.Plan(at, firstDate),
		dialog.ExplainOptions{Today: pol.Clock().LocalDate(env.Now()), Sources: *sources})
	return exitOK
}

func loadSet(env *Env, dirFlag string) (*policies.Set, error) {
	if dir := policiesDir(env, dirFlag); dir != "" {
		return policies.Load(os.DirFS(dir), dir)
	}
	return policies.Load(policies.Bundled(), policies.BundledDir)
}

// parseInstant reads a date (noon local time, so no zone can move it to
// another day) or an RFC 3339 time; empty means now.
func parseInstant(s string, now time.Time, loc *time.Location) (time.Time, error) {
	if s == "" {
		return now, nil
	}
	if d, err := policies.ParseDate(s); err == nil {
		return d.Time(loc).Add(12 * time.Hour), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("want YYYY-MM-DD or an RFC 3339 time, got %q", s)
}

func plural(n int, one, other string) string {
	if n == 1 {
		return one
	}
	return other
}
