package main

import (
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ombud/bot/slack/slacktest"
	"ombud/policies"
)

func TestServeMetricsAndPolicyReload(t *testing.T) {
	polDir := t.TempDir()
	names, _ := fs.Glob(policies.Bundled(), "*.yaml")
	for _, n := range names {
		b, _ := fs.ReadFile(policies.Bundled(), n)
		if err := os.WriteFile(filepath.Join(polDir, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tg := newFake(t)
	sl := slacktest.New("xoxb-test")
	t.Cleanup(sl.Close)
	addr, _ := serveInProcess(t, tg, t.TempDir(), map[string]string{
		"OMBUD_POLICIES_DIR": polDir, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": sl.APIURL(),
		"SLACK_CHANNEL": "C1", "SLACK_OPS_CHANNEL": "C9",
	})
	do(t, tg, 1, "en", step{text: "/start amex-se"})

	metrics := func() string {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	// The send is counted once Telegram's answer is back, just after the
	// fake saw the message: wait for it rather than race it.
	deadline := time.Now().Add(10 * time.Second)
	body := metrics()
	for !strings.Contains(body, `ombud_sends_total{destination="telegram",result="ok"}`) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		body = metrics()
	}
	for _, want := range []string{
		`ombud_inputs_total{channel="telegram"} 1`,
		`ombud_turn_seconds_bucket`,
		`ombud_sends_total{destination="telegram",result="ok"}`,
		`ombud_outbox_depth{destination="telegram"}`,
		`ombud_outbox_oldest_seconds{destination="agents"}`,
		`ombud_cases{status="submitted"} 0`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// A broken edit is refused, reported once in the operations channel
	// with file:line:col, and the old policies keep serving.
	src, _ := os.ReadFile(filepath.Join(polDir, "amex-se.yaml"))
	broken := strings.Replace(string(src), "country: SE", "country: NO", 1)
	for range 2 {
		if err := os.WriteFile(filepath.Join(polDir, "amex-se.yaml"), []byte(broken), 0o644); err != nil {
			t.Fatal(err)
		}
		time.Sleep(400 * time.Millisecond) // let the debounced watcher see each save; not a timing assertion
	}
	if !sl.Wait(10*time.Second, func() bool { return len(sl.Messages("C9")) > 0 }) {
		t.Fatal("no message in the operations channel")
	}
	ops := sl.Messages("C9")
	if len(ops) != 1 || !strings.Contains(ops[0].Text, `amex-se.yaml:`) || !strings.Contains(ops[0].Text, `unknown country "NO"`) {
		t.Errorf("operations channel got %d messages: %+v", len(ops), ops)
	}
	if !strings.Contains(metrics(), `ombud_policy_reloads_total{result="refused"}`) {
		t.Error("refused reload not counted")
	}
	do(t, tg, 2, "en", step{text: "/start amex-se"}) // still served by the last good policies
}
