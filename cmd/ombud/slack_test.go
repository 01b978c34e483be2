package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"ombud/bot/slack/slacktest"
)

const slackSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// postSigned sends body to an Ombud Slack endpoint signed as Slack would,
// at the given time.
func postSigned(t *testing.T, addr, path, contentType string, body []byte, at time.Time, secret string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+path, strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range slacktest.Sign(secret, at, body) {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func event(t *testing.T, id string, inner map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"type": "event_callback", "event_id": id, "team_id": "T1", "event": inner})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func interaction(t *testing.T, payload map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(url.Values{"payload": {string(b)}}.Encode())
}

func TestServeWithSlackDesk(t *testing.T) {
	tg := newFake(t)
	sl := slacktest.New("xoxb-test")
	t.Cleanup(sl.Close)
	sl.AddUser("U1", "Eva")
	addr, logs := serveInProcess(t, tg, t.TempDir(), map[string]string{
		"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": sl.APIURL(), "SLACK_SIGNING_SECRET": slackSecret,
		"SLACK_CHANNELS": "amex-se=C1,klarna-dk=C2",
	})
	const chat = 555
	tg.AddFile("doc-kvitto.pdf", []byte("%PDF-1.4 kvitto"))
	for _, s := range tgScript(t, "amex-se") {
		do(t, tg, chat, "sv", s)
	}
	if !sl.Wait(10*time.Second, func() bool { return len(sl.Messages("C1")) > 0 }) {
		t.Fatalf("no thread in C1:\n%s", logs.String())
	}
	root := sl.Messages("C1")[0]
	if !sl.Wait(10*time.Second, func() bool { return len(sl.Files()) == 1 && sl.Files()[0] == "kvitto.pdf" }) {
		t.Errorf("the consumer's receipt was not copied into the thread: %v", sl.Files())
	}
	if !strings.Contains(root.Blocks, "AXSE-2026-00001") || !strings.Contains(root.Blocks, "ombud_claim") || !strings.Contains(root.Blocks, "15 working days left") {
		t.Fatalf("root message is not the case header: %s", root.Blocks)
	}

	// A consumer's message after filing lands in the thread, escaped.
	do(t, tg, chat, "sv", step{text: "<!channel> hej & kolla <https://evil.example|här>"})
	if !sl.Wait(10*time.Second, func() bool { return len(sl.Thread("C1", root.TS)) > 0 }) {
		t.Fatal("consumer message not posted in the thread")
	}
	posted := sl.Thread("C1", root.TS)[0].Text
	if strings.Contains(posted, "<!channel>") || !strings.Contains(posted, "&lt;!channel&gt;") || strings.Contains(posted, "<https://evil") {
		t.Errorf("consumer text not escaped: %q", posted)
	}

	now := time.Now()
	// Forged and stale signatures get 401 and change nothing.
	reply := event(t, "Ev1", map[string]any{"type": "message", "user": "U1", "channel": "C1", "ts": "1800000000.000100",
		"thread_ts": root.TS, "text": "Vi tittar på det &amp; återkommer inom kort."})
	if code := postSigned(t, addr, "/slack/events", "application/json", reply, now, "wrong-secret"); code != http.StatusUnauthorized {
		t.Errorf("forged signature: %d", code)
	}
	if code := postSigned(t, addr, "/slack/events", "application/json", reply, now.Add(-6*time.Minute), slackSecret); code != http.StatusUnauthorized {
		t.Errorf("stale signature: %d", code)
	}
	before := len(tg.SentTo(chat))
	// Slack sends the event three times; the consumer gets it once.
	for range 3 {
		if code := postSigned(t, addr, "/slack/events", "application/json", reply, now, slackSecret); code != http.StatusOK {
			t.Fatalf("agent reply: %d", code)
		}
	}
	if !tg.Wait(10*time.Second, func() bool { return len(tg.SentTo(chat)) > before }) {
		t.Fatal("agent reply did not reach the consumer")
	}
	if !sl.Wait(10*time.Second, func() bool {
		m, ok := sl.Message("C1", "1800000000.000100")
		return ok && len(m.Reactions) > 0
	}) {
		t.Error("the delivered reply got no check mark")
	}
	got := tg.SentTo(chat)[before:]
	if len(got) != 1 || !strings.Contains(got[0].Text, "Eva") || !strings.Contains(got[0].Text, "Vi tittar på det & återkommer inom kort.") {
		t.Fatalf("consumer got %v", texts(got))
	}
	// The reply answered the consumer: the header says so, unasked.
	if !sl.Wait(10*time.Second, func() bool {
		m, _ := sl.Message("C1", root.TS)
		return strings.Contains(m.Blocks, "acknowledged")
	}) {
		m, _ := sl.Message("C1", root.TS)
		t.Errorf("header not redrawn after the agent's reply: %s", m.Blocks)
	}

	// An internal note and Ombud's own messages never reach the consumer.
	note := event(t, "Ev2", map[string]any{"type": "message", "user": "U1", "channel": "C1", "ts": "1800000000.000200", "thread_ts": root.TS, "text": "note: ring butiken först"})
	own := event(t, "Ev3", map[string]any{"type": "message", "bot_id": "BOMBUD", "subtype": "bot_message", "channel": "C1", "ts": "1800000000.000300", "thread_ts": root.TS, "text": "echo"})
	elsewhere := event(t, "Ev4", map[string]any{"type": "message", "user": "U1", "channel": "C9", "ts": "1800000000.000400", "thread_ts": root.TS, "text": "fel kanal"})
	for _, b := range [][]byte{note, own, elsewhere} {
		if code := postSigned(t, addr, "/slack/events", "application/json", b, now, slackSecret); code != http.StatusOK {
			t.Fatalf("event: %d", code)
		}
	}

	// The header's buttons: claim, then decide through the form.
	claim := interaction(t, map[string]any{"type": "block_actions", "trigger_id": "tr1", "user": map[string]any{"id": "U1", "name": "Eva"},
		"channel": map[string]any{"id": "C1"}, "container": map[string]any{"channel_id": "C1", "message_ts": root.TS},
		"actions": []map[string]any{{"type": "button", "block_id": "ombud_actions", "action_id": "ombud_claim", "value": "AXSE-2026-00001", "action_ts": "1.1"}}})
	if code := postSigned(t, addr, "/slack/interactions", "application/x-www-form-urlencoded", claim, now, slackSecret); code != http.StatusOK {
		t.Fatalf("claim: %d", code)
	}
	decideButton := interaction(t, map[string]any{"type": "block_actions", "trigger_id": "tr2", "user": map[string]any{"id": "U1", "name": "Eva"},
		"channel": map[string]any{"id": "C1"}, "actions": []map[string]any{{"type": "button", "block_id": "ombud_actions", "action_id": "ombud_decide", "value": "AXSE-2026-00001", "action_ts": "1.2"}}})
	if code := postSigned(t, addr, "/slack/interactions", "application/x-www-form-urlencoded", decideButton, now, slackSecret); code != http.StatusOK {
		t.Fatalf("decide button: %d", code)
	}
	if views := sl.Views(); len(views) != 1 || !strings.Contains(views[0], "ombud_decide_view") {
		t.Fatalf("decision form not opened: %v\n%s", views, logs.String())
	}
	submit := interaction(t, map[string]any{"type": "view_submission", "user": map[string]any{"id": "U1", "name": "Eva"},
		"view": map[string]any{"id": "V1", "callback_id": "ombud_decide_view", "private_metadata": "AXSE-2026-00001",
			"state": map[string]any{"values": map[string]any{
				"outcome_block": map[string]any{"outcome": map[string]any{"type": "static_select", "selected_option": map[string]any{"value": "rejected"}}},
				"text_block":    map[string]any{"text": map[string]any{"type": "plain_text_input", "value": "Vi kan tyvärr inte återbetala beloppet."}},
			}}}})
	if code := postSigned(t, addr, "/slack/interactions", "application/x-www-form-urlencoded", submit, now, slackSecret); code != http.StatusOK {
		t.Fatalf("decision: %d", code)
	}
	if !tg.Wait(10*time.Second, func() bool {
		s := tg.SentTo(chat)
		return strings.Contains(s[len(s)-1].Text, "Vi kan tyvärr inte återbetala beloppet.")
	}) {
		t.Fatalf("decision did not reach the consumer: %v", texts(tg.SentTo(chat)))
	}
	all := tg.SentTo(chat)
	decision := all[len(all)-1].Text
	for _, want := range []string{"Allmänna reklamationsnämnden", "150 SEK", "2027-11-02"} {
		if !strings.Contains(decision, want) {
			t.Errorf("decision lacks %q:\n%s", want, decision)
		}
	}
	for _, m := range all {
		if strings.Contains(m.Text, "ring butiken") || strings.Contains(m.Text, "echo") || strings.Contains(m.Text, "fel kanal") {
			t.Errorf("consumer got an internal or foreign message: %q", m.Text)
		}
	}
	if !sl.Wait(10*time.Second, func() bool {
		m, _ := sl.Message("C1", root.TS)
		return strings.Contains(m.Blocks, "rejected by Eva") && strings.Contains(m.Blocks, "claimed by Eva") && strings.Contains(m.Blocks, "ombud_reopen")
	}) {
		m, _ := sl.Message("C1", root.TS)
		t.Errorf("header not updated after the decision: %s", m.Blocks)
	}
}

// Socket Mode: the same desk without a public URL. An envelope is
// acknowledged after its input is stored, and the reply reaches the
// consumer once even when Slack redelivers it.
func TestServeWithSlackSocketMode(t *testing.T) {
	tg := newFake(t)
	sl := slacktest.New("xoxb-test")
	t.Cleanup(sl.Close)
	sl.AddUser("U2", "Jonas")
	_, logs := serveInProcess(t, tg, t.TempDir(), map[string]string{
		"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": sl.APIURL(), "SLACK_APP_TOKEN": "xapp-1-test", "SLACK_CHANNEL": "C7",
	})
	if !sl.Wait(10*time.Second, sl.Connected) {
		t.Fatalf("no socket mode connection (apps.connections.open called %d times):\n%s", sl.Calls("apps.connections.open"), logs.String())
	}
	const chat = 808
	for _, s := range tgScript(t, "klarna-dk") {
		do(t, tg, chat, "da", s)
	}
	if !sl.Wait(10*time.Second, func() bool { return len(sl.Messages("C7")) > 0 }) {
		t.Fatal("no thread in the default channel")
	}
	// The desk and the consumer are sent to independently: wait for the
	// receipt before counting what the consumer gets next.
	if !tg.Wait(10*time.Second, func() bool {
		s := tg.SentTo(chat)
		return strings.Contains(s[len(s)-1].Text, "KLDK-2026-00001")
	}) {
		t.Fatal("no receipt")
	}
	root := sl.Messages("C7")[0]
	payload := map[string]any{"type": "event_callback", "event_id": "EvS1", "team_id": "T1",
		"event": map[string]any{"type": "message", "user": "U2", "channel": "C7", "ts": "1800000001.000100", "thread_ts": root.TS, "text": "Vi kigger på sagen."}}
	before := len(tg.SentTo(chat))
	for _, env := range []string{"env-1", "env-2"} { // the second is Slack's redelivery
		if err := sl.SendEnvelope(env, "events_api", payload); err != nil {
			t.Fatal(err)
		}
		if !sl.Wait(10*time.Second, func() bool { return sl.Acked(env) }) {
			t.Fatalf("envelope %s not acknowledged", env)
		}
	}
	// A later reply on the same case is handled after the redelivery, so
	// once it has reached the consumer a wrongly handled duplicate would
	// have too.
	payload["event_id"] = "EvS2"
	payload["event"].(map[string]any)["ts"] = "1800000002.000100"
	payload["event"].(map[string]any)["text"] = "Vi vender tilbage."
	if err := sl.SendEnvelope("env-3", "events_api", payload); err != nil {
		t.Fatal(err)
	}
	if !tg.Wait(10*time.Second, func() bool { return len(tg.SentTo(chat)) >= before+2 }) {
		t.Fatalf("the replies did not reach the consumer: %v", texts(tg.SentTo(chat)[before:]))
	}
	got := tg.SentTo(chat)[before:]
	if len(got) != 2 || !strings.Contains(got[0].Text, "Jonas") || !strings.Contains(got[0].Text, "Vi kigger på sagen.") || !strings.Contains(got[1].Text, "Vi vender tilbage.") {
		t.Errorf("consumer got %v", texts(got))
	}
}
