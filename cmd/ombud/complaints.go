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

// complaintsQuery is what a register command was asked for.
type complaintsQuery struct {
	issuer, status   string
	overdue          bool
	format, from, to string
	out              string
}

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
	var q complaintsQuery
	fs.StringVar(&q.issuer, "issuer", "", "only this issuer")
	fs.StringVar(&q.status, "status", "", "only this status: open (any not decided or closed), "+statusList())
	fs.BoolVar(&q.overdue, "overdue", false, "only cases past their decision date")
	fs.StringVar(&q.format, "format", "csv", "export format: csv or json")
	fs.StringVar(&q.from, "from", "", "export cases received on or after this date")
	fs.StringVar(&q.to, "to", "", "export cases received on or before this date")
	fs.StringVar(&q.out, "out", "", "write the export to this file (default: standard output)")
	rest, code, ok := parseFlags(env, fs, args)
	if !ok {
		return code
	}
	if err := q.validate(sub, rest); err != nil {
		return usageError(env, fs, "%v", err)
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
	set := reg.Current()
	if _, known := set.Get(q.issuer); q.issuer != "" && !known && !slices.ContainsFunc(complaints, func(c dialog.Complaint) bool { return c.Issuer == q.issuer }) {
		return usageError(env, fs, "--issuer: no issuer %q (known: %s)", q.issuer, strings.Join(set.IDs(), ", "))
	}
	now := env.Now()
	rowOf := func(c dialog.Complaint) dialog.RegisterRow {
		p, _ := set.Get(c.Issuer)
		return c.Row(p, now)
	}
	switch sub {
	case "show":
		return showCase(env, complaints, rest[0], rowOf)
	case "list":
		listCases(env.Stdout, complaints, q, rowOf)
	case "stats":
		rows := make([]dialog.RegisterRow, 0, len(complaints))
		for _, c := range complaints {
			rows = append(rows, rowOf(c))
		}
		writeStats(env.Stdout, rows)
	case "export":
		return exportCases(env, complaints, q, rowOf)
	}
	return exitOK
}

// validate checks the subcommand and the flags before anything is read.
func (q complaintsQuery) validate(sub string, rest []string) error {
	switch sub {
	case "list", "stats", "export":
	case "show":
		if len(rest) != 1 {
			return errors.New("name one case, such as AXSE-2026-00001")
		}
	case "":
		return errors.New("say list, show, export or stats")
	default:
		return fmt.Errorf("unknown subcommand %q: say list, show, export or stats", sub)
	}
	if q.status != "" && q.status != "open" && !slices.Contains(dialog.CaseStatuses(), dialog.CaseStatus(q.status)) {
		return fmt.Errorf("--status: want open or one of %s, got %q", statusList(), q.status)
	}
	for _, d := range []string{q.from, q.to} {
		if _, err := policies.ParseDate(d); d != "" && err != nil {
			return fmt.Errorf("--from/--to: want a date like 2026-01-01, got %q", d)
		}
	}
	if sub == "export" && q.format != "csv" && q.format != "json" {
		return fmt.Errorf("--format: want csv or json, got %q", q.format)
	}
	return nil
}

// showCase prints one case in full.
func showCase(env *Env, complaints []dialog.Complaint, id string, rowOf func(dialog.Complaint) dialog.RegisterRow) int {
	for _, c := range complaints {
		if strings.EqualFold(c.ID, id) {
			showComplaint(env.Stdout, c, rowOf(c))
			return exitOK
		}
	}
	fmt.Fprintf(env.Stderr, "ombud complaints show: no case %s\n", id)
	return exitProblems
}

// listCases prints the cases the query picks, a line each.
func listCases(w io.Writer, complaints []dialog.Complaint, q complaintsQuery, rowOf func(dialog.Complaint) dialog.RegisterRow) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tISSUER\tSTATUS\tRECEIVED\tDECISION DUE\tON TIME\tLATE")
	n := 0
	for _, c := range complaints {
		r := rowOf(c)
		if (q.issuer != "" && r.Issuer != q.issuer) || !statusMatches(q.status, r.Status) || (q.overdue && r.OnTime != dialog.OnTimeNo) {
			continue
		}
		due := r.DecisionDue
		if r.ExtendedDue != "" && r.HoldingReplyAt != "" {
			due = r.ExtendedDue + " (ext.)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", r.Case, r.Issuer, r.Status, r.ReceivedDate, due, r.OnTime, r.WorkingDaysLate)
		n++
	}
	tw.Flush()
	fmt.Fprintf(w, "%d %s\n", n, plural(n, "case", "cases"))
}

// exportCases writes the register rows the query picks as CSV or JSON.
func exportCases(env *Env, complaints []dialog.Complaint, q complaintsQuery, rowOf func(dialog.Complaint) dialog.RegisterRow) int {
	picked := []dialog.RegisterRow{}
	for _, c := range complaints {
		r := rowOf(c)
		if (q.from == "" || r.ReceivedDate >= q.from) && (q.to == "" || r.ReceivedDate <= q.to) && (q.issuer == "" || r.Issuer == q.issuer) {
			picked = append(picked, r)
		}
	}
	w := env.Stdout
	if q.out != "" {
		f, err := os.OpenFile(q.out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600) // the register is personal data
		if err != nil {
			fmt.Fprintf(env.Stderr, "ombud complaints export: %v\n", err)
			return exitProblems
		}
		defer f.Close()
		w = f
	}
	var err error
	if q.format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		err = enc.Encode(picked)
	} else {
		err = dialog.WriteRegisterCSV(w, picked)
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
