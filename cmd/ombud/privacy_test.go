package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ombud/bot"
	"ombud/bot/slack/slacktest"
	"ombud/dialog"
	"ombud/store"
)

// /mydata sends the consumer everything held about them; /delete erases
// it from the store, from the files on disk and from the Slack thread,
// keeping the case pseudonymised for the register.
func TestMyDataAndDelete(t *testing.T) {
	tg := newFake(t)
	tg.AddFile("doc-kvitto.pdf", []byte("%PDF-1.4 "+"Zebrafinkens-hemlighet-4711"))
	sl := slacktest.New("xoxb-test")
	t.Cleanup(sl.Close)
	dir := t.TempDir()
	_, logs, stop := startServe(t, tg, dir, map[string]string{
		"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": sl.APIURL(), "SLACK_SIGNING_SECRET": slackSecret, "SLACK_CHANNEL": "C1",
	})
	t.Cleanup(stop)
	const chat = 321
	const secret = "Zebrafinkens-hemlighet-4711"
	for _, s := range tgScript(t, "billender") {
		if s.text == longAnswer {
			s.text += " " + secret // every free-text answer carries the needle
		}
		do(t, tg, chat, "en", s)
	}
	do(t, tg, chat, "en", step{text: "One more thing: " + secret})
	do(t, tg, chat, "en", step{doc: "kvitto.pdf"})
	if !sl.Wait(10*time.Second, func() bool { return len(sl.Files()) == 1 }) {
		t.Fatalf("the consumer's file was not copied into the thread: %v", sl.Files())
	}
	if !sl.Wait(10*time.Second, func() bool {
		ms := sl.Messages("C1")
		return len(ms) > 0 && len(sl.Thread("C1", ms[0].TS)) > 0
	}) {
		t.Fatalf("no thread with the consumer's message: %d messages; consumer saw %v\n%s", len(sl.Messages("")), texts(tg.SentTo(chat)), logs.String())
	}

	do(t, tg, chat, "en", step{text: "/mydata"})
	sent := tg.SentTo(chat)
	last := sent[len(sent)-1]
	var export struct {
		Complaints []dialog.Complaint `json:"complaints"`
	}
	if last.DocumentName != "ombud-mydata.json" || json.Unmarshal(last.Document, &export) != nil || len(export.Complaints) != 1 || !bytes.Contains(last.Document, []byte(secret)) {
		t.Fatalf("/mydata sent %q (%d bytes, %d complaints)", last.DocumentName, len(last.Document), len(export.Complaints))
	}
	caseID := export.Complaints[0].ID

	do(t, tg, chat, "en", step{text: "/delete"})
	if !strings.Contains(tg.SentTo(chat)[len(tg.SentTo(chat))-1].ReplyMarkup, "erase:yes") {
		t.Fatal("/delete did not ask for confirmation")
	}
	do(t, tg, chat, "en", step{press: "erase:yes"})
	told := tg.SentTo(chat)[len(tg.SentTo(chat))-1].Text
	if !strings.Contains(told, caseID) || !strings.Contains(told, "register") {
		t.Errorf("consumer not told what is kept and why: %q", told)
	}
	root := sl.Messages("C1")[0]
	if !sl.Wait(10*time.Second, func() bool { return len(sl.Files()) == 0 }) {
		t.Errorf("the consumer's file is still in Slack: %v", sl.Files())
	}
	if !sl.Wait(10*time.Second, func() bool {
		for _, m := range sl.Messages("C1") {
			if strings.Contains(m.Text, secret) || strings.Contains(m.Blocks, secret) {
				return false
			}
		}
		return true
	}) {
		t.Errorf("the Slack thread still quotes the consumer: %+v", sl.Thread("C1", root.TS))
	}
	stop()

	// Gone from the files, not only from the keys.
	var hits []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, err := os.ReadFile(path); err == nil && bytes.Contains(b, []byte(secret)) {
				hits = append(hits, filepath.Base(path))
			}
		}
		return nil
	})
	if len(hits) > 0 {
		t.Errorf("erased text still on disk in %v", hits)
	}
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.View(func(tx bot.Tx) error {
		c, err := tx.Complaint(caseID)
		if err != nil || !c.Erased || c.Chat != "" || c.ReceivedDate.IsZero() || len(c.Deadlines) == 0 {
			t.Errorf("register row after erasure: %+v %v", c, err)
		}
		if _, err := tx.Session(dialog.SessionKey("telegram", "321")); err == nil {
			t.Error("the conversation survived the erasure")
		}
		return nil
	})
}
