package store

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"ombud/bot"
	"ombud/dialog"
)

// filesContain reports whether any file under dir contains needle.
func filesContain(t *testing.T, dir string, needle []byte) []string {
	t.Helper()
	var hits []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err == nil && bytes.Contains(b, needle) {
			hits = append(hits, filepath.Base(path))
		}
		return nil
	})
	return hits
}

func TestPurgeRemovesDeletedDataFromDisk(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, Options{})
	secret := []byte("Zebrafinkens-hemlighet-4711")
	if err := s.Update(func(tx bot.Tx) error {
		for i := range 5 { // several versions, as a conversation writes
			if err := tx.PutSession("telegram:1", dialog.Session{Chat: "1", Answers: map[string]dialog.Answer{"d": {Value: string(secret)}}, State: dialog.State(rune('a' + i))}); err != nil {
				return err
			}
		}
		return tx.AddOutbox(dialog.Output{Text: string(secret)})
	}); err != nil {
		t.Fatal(err)
	}
	items, _ := s.Outbox(0)
	if err := s.MarkSent(items[0].Seq); err != nil {
		t.Fatal(err)
	}
	if hits := filesContain(t, dir, secret); len(hits) == 0 {
		t.Fatal("the test's needle was never on disk; the search proves nothing")
	}
	if err := s.Update(func(tx bot.Tx) error { return tx.DeleteSession("telegram:1") }); err != nil {
		t.Fatal(err)
	}
	if err := s.Purge(); err != nil {
		t.Fatal(err)
	}
	if hits := filesContain(t, dir, secret); len(hits) > 0 {
		t.Errorf("erased text still on disk in %v", hits)
	}
	s.Close()
	if hits := filesContain(t, dir, secret); len(hits) > 0 {
		t.Errorf("erased text on disk after close in %v", hits)
	}
}

func TestOutboxHeadsOnePerQueue(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	msg := func(to dialog.Recipient, chat, issuer, text string) dialog.Output {
		return dialog.Output{To: to, Channel: "telegram", Chat: chat, Issuer: issuer, Text: text}
	}
	if err := s.Update(func(tx bot.Tx) error {
		return tx.AddOutbox(
			msg(dialog.ToConsumer, "1", "", "a1"), msg(dialog.ToConsumer, "2", "", "b1"),
			msg(dialog.ToConsumer, "1", "", "a2"), msg(dialog.ToAgents, "1", "amex-se", "desk1"),
			msg(dialog.ToAgents, "2", "amex-se", "desk2"), msg(dialog.ToAgents, "2", "klarna-dk", "k1"))
	}); err != nil {
		t.Fatal(err)
	}
	texts := func() []string {
		heads, err := s.OutboxHeads()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, h := range heads {
			out = append(out, h.Output.Text)
		}
		sort.Strings(out)
		return out
	}
	if got := strings.Join(texts(), " "); got != "a1 b1 desk1 k1" {
		t.Fatalf("heads = %s, want the oldest of each queue", got)
	}
	heads, _ := s.OutboxHeads()
	for _, h := range heads {
		if h.Output.Text == "a1" {
			if err := s.MarkSent(h.Seq); err != nil {
				t.Fatal(err)
			}
		}
		if h.Output.Text == "desk1" {
			if err := s.Update(func(tx bot.Tx) error { return tx.DropOutbox(h.Seq) }); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := strings.Join(texts(), " "); got != "a2 b1 desk2 k1" {
		t.Fatalf("heads after sending = %s", got)
	}
}
