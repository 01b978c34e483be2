package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ombud/dialog"
)

// registerStore files six amex-se complaints through ombud chat and moves
// each to a different state, with Nordic letters, commas and quotes in
// the free text the register keeps.
func registerStore(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	extra := [][]string{
		nil,
		{"/agent reply Hej, vi tittar på det."},
		{"/agent claim"},
		{"/agent claim", `/agent extend Vi väntar på "kvitton" från Ærø, Øster och Åsa`},
		{"/agent decide partial Delvis rätt"},
		{"/agent decide upheld Ja", "/agent close", "4", "Tack, åäö æø bra"},
	}
	for i, more := range extra {
		lines := append(script(t, "amex-se", true), more...)
		got := runIn(t, nil, strings.Join(lines, "\n")+"\n", "chat", "--data", dir, "--now", "2026-12-18T10:00:00+01:00",
			"--issuer", "amex-se", "--lang", "sv", "--chat", string(rune('a'+i)), "--agent", "Eva Ødegård")
		if got.code != 0 {
			t.Fatalf("chat %d: %s", i, got.stderr)
		}
	}
	return dir
}

func TestRegisterExportCSVAndJSON(t *testing.T) {
	dir := registerStore(t)
	got := run(t, map[string]string{"OMBUD_DATA_DIR": dir}, "complaints", "export", "--format", "csv")
	if got.code != 0 {
		t.Fatalf("export: %s", got.stderr)
	}
	if !strings.HasPrefix(got.stdout, "\uFEFF") {
		t.Error("CSV lacks the UTF-8 byte order mark spreadsheets need")
	}
	records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(got.stdout, "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v", err)
	}
	if len(records) != 7 || records[0][0] != "case" {
		t.Fatalf("%d records, header %v", len(records), records[0])
	}
	statuses := map[string]bool{}
	col := map[string]int{}
	for i, h := range records[0] {
		col[h] = i
	}
	for _, r := range records[1:] {
		statuses[r[col["status"]]] = true
	}
	for _, s := range []string{"submitted", "acknowledged", "in_progress", "extended", "decided", "closed"} {
		if !statuses[s] {
			t.Errorf("no %s case in the register: %v", s, statuses)
		}
	}
	csvText := got.stdout
	for _, want := range []string{`Vi väntar på ""kvitton"" från Ærø, Øster och Åsa`, "Tack, åäö æø bra", "Eva Ødegård"} {
		if !strings.Contains(csvText, want) {
			t.Errorf("CSV lacks %q", want)
		}
	}

	js := run(t, map[string]string{"OMBUD_DATA_DIR": dir}, "complaints", "export", "--format", "json")
	var rows []dialog.RegisterRow
	if err := json.Unmarshal([]byte(js.stdout), &rows); err != nil || len(rows) != 6 {
		t.Fatalf("JSON: %d rows, %v", len(rows), err)
	}
	again, _ := json.MarshalIndent(rows, "", "  ")
	if strings.TrimSpace(js.stdout) != string(again) {
		t.Error("JSON export does not round-trip")
	}
	for _, r := range rows {
		if r.Status == dialog.CaseClosed && (r.Rating != 4 || r.Outcome != "upheld" || r.OnTime != "yes") {
			t.Errorf("closed row: %+v", r)
		}
		if r.Status == dialog.CaseDecided && !r.EscalationAdvice {
			t.Errorf("a partial decision without escalation advice: %+v", r)
		}
	}
}

func TestRegisterListShowStats(t *testing.T) {
	dir := registerStore(t)
	env := map[string]string{"OMBUD_DATA_DIR": dir}
	list := run(t, env, "complaints", "list", "--status", "extended")
	if list.code != 0 || !strings.Contains(list.stdout, "1 case") || !strings.Contains(list.stdout, "2027-02-12 (ext.)") {
		t.Errorf("list:\n%s%s", list.stdout, list.stderr)
	}
	open := run(t, env, "complaints", "list", "--status", "open")
	if open.code != 0 || !strings.Contains(open.stdout, "4 cases") {
		t.Errorf("list --status open:\n%s%s", open.stdout, open.stderr)
	}
	for _, bad := range [][]string{{"--status", "opne"}, {"--issuer", "amex"}} {
		if got := run(t, env, append([]string{"complaints", "list"}, bad...)...); got.code != 2 || !strings.Contains(got.stderr, bad[1]) {
			t.Errorf("list %v: %d %s", bad, got.code, got.stderr)
		}
	}
	decided := run(t, env, "complaints", "show", "AXSE-2026-00005")
	if !strings.Contains(decided.stdout, "Decision: partial, by Eva Ødegård") || !strings.Contains(decided.stdout, "Delvis rätt") {
		t.Errorf("show does not give the decision:\n%s", decided.stdout)
	}
	if got := run(t, map[string]string{"OMBUD_DATA_DIR": filepath.Join(t.TempDir(), "none")}, "complaints", "list"); got.code == 0 || !strings.Contains(got.stderr, "no data directory") {
		t.Errorf("list without a data directory: %d %s", got.code, got.stderr)
	}
	stats := run(t, env, "complaints", "stats")
	for _, want := range []string{"Cases: 6", "amex-se", "By cause:", "A charge or purchase", "Decided on time: 2 of 2 (100%)", "Median working days to decision: 0"} {
		if !strings.Contains(stats.stdout, want) {
			t.Errorf("stats lacks %q:\n%s", want, stats.stdout)
		}
	}
	show := run(t, env, "complaints", "show", "AXSE-2026-00004")
	for _, want := range []string{"Case AXSE-2026-00004", "Timeline:", "extend", "Ærø"} {
		if !strings.Contains(show.stdout, want) {
			t.Errorf("show lacks %q:\n%s", want, show.stdout)
		}
	}
	if got := run(t, env, "complaints", "show", "NOPE-1"); got.code == 0 {
		t.Error("show of an unknown case succeeded")
	}
}

func TestBackupAndRestore(t *testing.T) {
	dir := registerStore(t)
	file := filepath.Join(t.TempDir(), "ombud.backup")
	if got := run(t, nil, "backup", file, "--data", dir); got.code != 0 {
		t.Fatalf("backup: %s", got.stderr)
	}
	if info, err := os.Stat(file); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("backup file mode %v (%v), want 0600: it holds every consumer's data", info.Mode().Perm(), err)
	}
	restored := filepath.Join(t.TempDir(), "restored")

	// Files that are not backups are refused before anything is written,
	// and leave nothing behind that would refuse the real one.
	junk := filepath.Join(t.TempDir(), "junk")
	for _, content := range []string{"", "hello, this is not a backup\n", "\xff\xff\xff\xff\xff\xff\xff\x7f", "\x05\x00\x00\x00\x00\x00\x00\x00abc", "\x03\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff"} {
		os.WriteFile(junk, []byte(content), 0o600)
		got := run(t, nil, "restore", junk, "--data", restored)
		if got.code == 0 || (!strings.Contains(got.stderr, "not an Ombud backup") && !strings.Contains(got.stderr, "restore")) {
			t.Errorf("restore of %q: %d %s", content, got.code, got.stderr)
		}
		if _, err := os.Stat(restored); err == nil {
			t.Errorf("restore of %q left %s behind", content, restored)
		}
	}
	// A backup cut off in the middle is refused too.
	whole, _ := os.ReadFile(file)
	os.WriteFile(junk, whole[:len(whole)-10], 0o600)
	if got := run(t, nil, "restore", junk, "--data", restored); got.code == 0 {
		t.Errorf("a cut-off backup was restored: %s", got.stdout)
	}

	if got := run(t, nil, "restore", file, "--data", restored); got.code != 0 {
		t.Fatalf("restore: %s", got.stderr)
	}
	a := run(t, map[string]string{"OMBUD_DATA_DIR": dir}, "complaints", "export", "--format", "json")
	b := run(t, map[string]string{"OMBUD_DATA_DIR": restored}, "complaints", "export", "--format", "json")
	if a.stdout != b.stdout || !strings.Contains(b.stdout, "AXSE-2026-00006") {
		t.Error("the restored register differs from the original")
	}
	if got := run(t, nil, "restore", file, "--data", dir); got.code == 0 || !strings.Contains(got.stderr, "not empty") {
		t.Errorf("restore into a used directory: %d %s", got.code, got.stderr)
	}
}

// While ombud serve holds the store, the register and backups come from
// the server.
func TestRegisterAndBackupWhileServing(t *testing.T) {
	dir := registerStore(t)
	tg := newFake(t)
	addr, _ := serveInProcess(t, tg, dir, map[string]string{"OMBUD_ADMIN_TOKEN": "s3cret"})
	if got := run(t, map[string]string{"OMBUD_DATA_DIR": dir, "OMBUD_HTTP_ADDR": addr}, "complaints", "list"); got.code == 0 || !strings.Contains(got.stderr, "OMBUD_ADMIN_TOKEN") {
		t.Errorf("list without the token: %d %s", got.code, got.stderr)
	}
	if got := run(t, map[string]string{"OMBUD_DATA_DIR": dir, "OMBUD_HTTP_ADDR": addr, "OMBUD_ADMIN_TOKEN": "wrong"}, "complaints", "list"); got.code == 0 || !strings.Contains(got.stderr, "401") {
		t.Errorf("list with a wrong token: %d %s", got.code, got.stderr)
	}
	env := map[string]string{"OMBUD_DATA_DIR": dir, "OMBUD_HTTP_ADDR": addr, "OMBUD_ADMIN_TOKEN": "s3cret"}
	list := run(t, env, "complaints", "list")
	if list.code != 0 || !strings.Contains(list.stdout, "6 cases") {
		t.Fatalf("list while serving: %s%s", list.stdout, list.stderr)
	}
	file := filepath.Join(t.TempDir(), "live.backup")
	if got := run(t, env, "backup", file); got.code != 0 {
		t.Fatalf("backup while serving: %s", got.stderr)
	}
	if b, err := os.ReadFile(file); err != nil || !bytes.Contains(b, []byte("AXSE-2026-00006")) {
		t.Errorf("live backup: %d bytes, %v", len(b), err)
	}
}

// Without OMBUD_ADMIN_TOKEN the server offers no admin endpoint at all: a
// local reverse proxy would make any outside request look local.
func TestAdminEndpointsNeedAToken(t *testing.T) {
	tg := newFake(t)
	addr, _ := serveInProcess(t, tg, t.TempDir(), nil)
	for _, path := range []string{"/admin/complaints", "/admin/backup"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s without a token configured: %d", path, resp.StatusCode)
		}
	}
}
