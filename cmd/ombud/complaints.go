package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"ombud/dialog"
	"ombud/policies"
	"ombud/store"
)

// The register commands read the store directly when no server holds it.
// While ombud serve runs, Badger's directory lock keeps even read-only
// opens out, so they ask the running server's /admin/complaints instead,
// with OMBUD_ADMIN_TOKEN: one owner of the data, no second process touching
// its files.

func runComplaints(ctx context.Context, env *Env, args []string) int {
	const synopsis = "list [--issuer ID] [--status S] [--overdue] | show CASE | export --format csv|json [--from DATE --to DATE] | stats"
	sub := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	fs := newFlags(env, "complaints", synopsis,
		"Reads the complaints register: from the data directory, or from the running server\n"+
			"(OMBUD_HTTP_ADDR, with OMBUD_ADMIN_TOKEN if set) while ombud serve holds it.")
	data := dataFlag(fs, env)
	issuer := fs.String("issuer", "", "only this issuer")
	status := fs.String("status", "", "only this status: open (any not decided or closed), "+statusList())
	overdue := fs.Bool("overdue", false, "only cases past their decision date")
	format := fs.String("format", "csv", "export format: csv or json")
	from := fs.String("from", "", "export cases received on or after this date")
	to := fs.String("to", "", "export cases received on or before this date")
	out := fs.String("out", "", "write the export to this file (default: standard output)")
	rest, code, ok := parseFlags(env, fs, args)
	if !ok {
		return code
	}
	switch sub {
	case "list", "show", "export", "stats":
	case "":
		return usageError(env, fs, "say list, show, export or stats")
	default:
		return usageError(env, fs, "unknown subcommand %q: say list, show, export or stats", sub)
	}
	if *status != "" && *status != "open" && !slices.Contains(dialog.CaseStatuses(), dialog.CaseStatus(*status)) {
		return usageError(env, fs, "--status: want open or one of %s, got %q", statusList(), *status)
	}
	key, err := encryptionKey(env)
	if err != nil {
		return usageError(env, fs, "%v", err)
	}
	complaints, err := readRegister(ctx, env, *data, key)
	if err != nil {
		fmt.Fprintf(env.Stderr, "ombud complaints: %v\n", err)
		return exitProblems
	}
	reg, err := newRegistry(env, "", discardLog())
	if err != nil {
		fmt.Fprintf(env.Stderr, "ombud complaints: %v\n", err)
		return exitProblems
	}
	if _, known := reg.Current().Get(*issuer); *issuer != "" && !known && !slices.ContainsFunc(complaints, func(c dialog.Complaint) bool { return c.Issuer == *issuer }) {
		return usageError(env, fs, "--issuer: no issuer %q (known: %s)", *issuer, strings.Join(reg.Current().IDs(), ", "))
	}
	now := env.Now()
	rows := make([]dialog.RegisterRow, 0, len(complaints))
	for _, c := range complaints {
		p, _ := reg.Current().Get(c.Issuer)
		rows = append(rows, c.Row(p, now))
	}

	switch sub {
	case "show":
		if len(rest) != 1 {
			return usageError(env, fs, "name one case, such as AXSE-2026-00001")
		}
		for _, c := range complaints {
			if strings.EqualFold(c.ID, rest[0]) {
				p, _ := reg.Current().Get(c.Issuer)
				showComplaint(env.Stdout, c, c.Row(p, now))
				return exitOK
			}
		}
		fmt.Fprintf(env.Stderr, "ombud complaints show: no case %s\n", rest[0])
		return exitProblems
	case "list":
		var picked []dialog.RegisterRow
		for _, r := range rows {
			if (*issuer == "" || r.Issuer == *issuer) && statusMatches(*status, r.Status) && (!*overdue || r.OnTime == dialog.OnTimeNo) {
				picked = append(picked, r)
			}
		}
		tw := tabwriter.NewWriter(env.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CASE\tISSUER\tSTATUS\tRECEIVED\tDECISION DUE\tON TIME\tLATE")
		for _, r := range picked {
			due := r.DecisionDue
			if r.ExtendedDue != "" && r.HoldingReplyAt != "" {
				due = r.ExtendedDue + " (ext.)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", r.Case, r.Issuer, r.Status, r.ReceivedDate, due, r.OnTime, r.WorkingDaysLate)
		}
		tw.Flush()
		fmt.Fprintf(env.Stdout, "%d %s\n", len(picked), plural(len(picked), "case", "cases"))
		return exitOK
	case "stats":
		writeStats(env.Stdout, rows)
		return exitOK
	}

	// export
	var picked []dialog.RegisterRow
	for _, r := range rows {
		if (*from == "" || r.ReceivedDate >= *from) && (*to == "" || r.ReceivedDate <= *to) && (*issuer == "" || r.Issuer == *issuer) {
			picked = append(picked, r)
		}
	}
	for _, d := range []string{*from, *to} {
		if _, err := policies.ParseDate(d); d != "" && err != nil {
			return usageError(env, fs, "--from/--to: want a date like 2026-01-01, got %q", d)
		}
	}
	w := env.Stdout
	if *out != "" {
		f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600) // the register is personal data
		if err != nil {
			fmt.Fprintf(env.Stderr, "ombud complaints export: %v\n", err)
			return exitProblems
		}
		defer f.Close()
		w = f
	}
	switch *format {
	case "csv":
		err = dialog.WriteRegisterCSV(w, picked)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if picked == nil {
			picked = []dialog.RegisterRow{}
		}
		err = enc.Encode(picked)
	default:
		return usageError(env, fs, "--format: want csv or json, got %q", *format)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "ombud complaints export: %v\n", err)
		return exitProblems
	}
	return exitOK
}

// statusList names the statuses a case can have, in the order it meets them.
func statusList() string {
	var names []string
	for _, s := range dialog.CaseStatuses() {
		names = append(names, string(s))
	}
	return strings.Join(names, ", ")
}

// statusMatches reports whether a case's status is the one asked for; open
// asks for any the issuer has not yet answered with a decision.
func statusMatches(want string, status dialog.CaseStatus) bool {
	switch want {
	case "":
		return true
	case "open":
		return status.Open()
	}
	return string(status) == want
}

// readRegister reads every complaint, from the data directory or, while a
// server holds it, from the server.
func readRegister(ctx context.Context, env *Env, dir string, key []byte) ([]dialog.Complaint, error) {
	if _, err := os.Stat(dir); err != nil {
		// Opening would create an empty store: say so instead.
		return nil, fmt.Errorf("no data directory %s (set --data or OMBUD_DATA_DIR)", dir)
	}
	st, err := store.Open(dir, store.Options{EncryptionKey: key})
	if errors.Is(err, store.ErrLocked) {
		var out []dialog.Complaint
		err := adminGet(ctx, env, "/admin/complaints", func(r io.Reader) error { return json.NewDecoder(r).Decode(&out) })
		return out, err
	}
	if err != nil {
		return nil, err
	}
	defer st.Close()
	var out []dialog.Complaint
	err = st.Complaints(func(c dialog.Complaint) error {
		out = append(out, c)
		return nil
	})
	return out, err
}

// adminGet calls the running server's admin endpoint.
func adminGet(ctx context.Context, env *Env, path string, read func(io.Reader) error) error {
	addr := envOr(env, "OMBUD_HTTP_ADDR", "127.0.0.1:8080")
	tok := env.Getenv("OMBUD_ADMIN_TOKEN")
	if tok == "" {
		return errors.New("the data directory is in use by ombud serve; to read it through the server, run both with the same OMBUD_ADMIN_TOKEN")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := (&http.Client{Timeout: 5 * time.Minute}).Do(req)
	if err != nil {
		return fmt.Errorf("the data directory is in use by ombud serve, and its %s did not answer: %w", addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("ombud serve at %s answered %s (is OMBUD_ADMIN_TOKEN the same on both sides?)", addr, resp.Status)
	}
	return read(resp.Body)
}

func showComplaint(w io.Writer, c dialog.Complaint, r dialog.RegisterRow) {
	fmt.Fprintf(w, "Case %s  %s  %s\n", c.ID, c.Issuer, c.Status)
	fmt.Fprintf(w, "Received %s (%s), first complaint %s, via %s, language %s, policy %s\n",
		r.ReceivedDate, c.ReceivedAt.UTC().Format(time.RFC3339), r.FirstComplaint, c.Channel, c.Lang, c.PolicyVersion)
	for _, d := range c.Deadlines {
		line := fmt.Sprintf("  %s (%s): due %s", d.ID, d.Kind, d.Due)
		if d.Extended != nil {
			line += fmt.Sprintf(", %s with a holding reply", *d.Extended)
		}
		if d.Met {
			line += ", met"
		}
		if d.Breached {
			line += ", MISSED"
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "On time: %s", r.OnTime)
	if r.WorkingDaysLate > 0 {
		fmt.Fprintf(w, " (%d working days late)", r.WorkingDaysLate)
	}
	fmt.Fprintln(w)
	if c.ClaimedBy != "" {
		fmt.Fprintf(w, "Claimed by %s\n", c.ClaimedBy)
	}
	if c.ExtendedReason != "" {
		fmt.Fprintf(w, "Holding reply: %s\n", strings.ReplaceAll(c.ExtendedReason, "\n", " "))
	}
	if d := c.Decision; d != nil {
		fmt.Fprintf(w, "Decision: %s, by %s on %s", d.Outcome, d.By, d.At.UTC().Format("2006-01-02 15:04"))
		if r.WorkingDaysToDecision > 0 {
			fmt.Fprintf(w, ", %d working days after receipt", r.WorkingDaysToDecision)
		}
		fmt.Fprintf(w, "\n  %s\n", strings.ReplaceAll(d.Text, "\n", "\n  "))
		if r.EscalationAdvice {
			fmt.Fprintln(w, "  The consumer was told where to go next.")
		}
	}
	for _, a := range c.Answers {
		fmt.Fprintf(w, "  %s\n    %s\n", a.Question, strings.ReplaceAll(a.Display, "\n", "\n    "))
	}
	fmt.Fprintln(w, "Timeline:")
	for _, e := range c.History {
		fmt.Fprintf(w, "  %s  %-9s %-10s %s\n", e.At.UTC().Format("2006-01-02 15:04"), e.Kind, e.By, strings.ReplaceAll(e.Text, "\n", " "))
	}
	if c.Rating > 0 {
		fmt.Fprintf(w, "Rating: %d/5 %s\n", c.Rating, c.RatingComment)
	}
}

// writeStats prints counts by issuer, status, outcome; the share decided on
// time; and the median working days to a decision.
func writeStats(w io.Writer, rows []dialog.RegisterRow) {
	count := func(key func(dialog.RegisterRow) string) map[string]int {
		m := map[string]int{}
		for _, r := range rows {
			if k := key(r); k != "" {
				m[k]++
			}
		}
		return m
	}
	section := func(title string, m map[string]int) {
		fmt.Fprintln(w, title)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %-20s %d\n", k, m[k])
		}
	}
	fmt.Fprintf(w, "Cases: %d\n", len(rows))
	section("By issuer:", count(func(r dialog.RegisterRow) string { return r.Issuer }))
	section("By status:", count(func(r dialog.RegisterRow) string { return string(r.Status) }))
	section("By outcome:", count(func(r dialog.RegisterRow) string { return string(r.Outcome) }))
	section("By product:", count(func(r dialog.RegisterRow) string { return r.Product }))
	section("By cause:", count(func(r dialog.RegisterRow) string { return r.Cause }))
	decided, onTime := 0, 0
	var days []int
	for _, r := range rows {
		if r.Outcome != "" {
			decided++
			if r.OnTime == "yes" {
				onTime++
			}
			days = append(days, r.WorkingDaysToDecision)
		}
	}
	if decided > 0 {
		slices.Sort(days)
		fmt.Fprintf(w, "Decided on time: %d of %d (%.0f%%)\n", onTime, decided, 100*float64(onTime)/float64(decided))
		fmt.Fprintf(w, "Median working days to decision: %d\n", days[len(days)/2])
	}
}
