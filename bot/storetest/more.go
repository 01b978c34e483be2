package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"ombud/bot"
	"ombud/dialog"
)

type starter = func(t *testing.T) (bot.Store, *Clock, func() bot.Store)

// runRefs: an adapter's cross-references are read back as written, a
// later write replaces an earlier one, and PutRefs writes all or none.
func runRefs(t *testing.T, start starter) {
	t.Run("Refs", func(t *testing.T) {
		s, _, _ := start(t)
		if _, ok, err := s.Ref("slack.thread", "A-1"); err != nil || ok {
			t.Fatalf("Ref before any = ok %v, err %v; want none", ok, err)
		}
		if err := s.PutRef("slack.thread", "A-1", "C1 1.1"); err != nil {
			t.Fatal(err)
		}
		if err := s.PutRefs(bot.Ref{Kind: "slack.thread", Key: "A-1", Value: "C1 2.2"}, bot.Ref{Kind: "slack.case", Key: "C1 2.2", Value: "A-1"}); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct{ kind, key, want string }{
			{"slack.thread", "A-1", "C1 2.2"},
			{"slack.case", "C1 2.2", "A-1"},
		} {
			if got, ok, err := s.Ref(tt.kind, tt.key); err != nil || !ok || got != tt.want {
				t.Errorf("Ref(%s, %s) = %q, %v, %v; want %q", tt.kind, tt.key, got, ok, err, tt.want)
			}
		}
		// Kinds are apart: the same key under another kind is another ref.
		if _, ok, _ := s.Ref("slack.files", "A-1"); ok {
			t.Error("a ref of one kind was read under another")
		}
		if err := s.PutRef("slack.files", "A-1", ""); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := s.Ref("slack.files", "A-1"); err != nil || !ok || got != "" {
			t.Errorf("an empty ref reads as %q, %v, %v; want \"\", true", got, ok, err)
		}
	})
}

// runQueues: each queue's head is its oldest entry, whatever the others
// hold, and it moves on when the head is sent or dropped; a postponed
// entry keeps its place and counts no attempt.
func runQueues(t *testing.T, start starter) {
	t.Run("QueueHeads", func(t *testing.T) {
		s, _, _ := start(t)
		to := func(chat, text string) dialog.Output {
			return dialog.Output{To: dialog.ToConsumer, Channel: "telegram", Chat: chat, Key: "test", Text: text}
		}
		desk := dialog.Output{To: dialog.ToAgents, Issuer: "amex-se", Case: "A-1", Key: "test", Text: "desk 1"}
		MustUpdate(t, s, func(tx bot.Tx) error {
			return tx.AddOutbox(to("1", "one a"), to("2", "two a"), desk, to("1", "one b"))
		})
		heads, err := s.OutboxHeads()
		if err != nil {
			t.Fatal(err)
		}
		got := itemTexts(heads)
		slices.Sort(got)
		if want := []string{"desk 1", "one a", "two a"}; !slices.Equal(got, want) {
			t.Errorf("OutboxHeads = %q, want %q", got, want)
		}
		head, ok, err := s.QueueHead(to("1", "").Queue())
		if err != nil || !ok || head.Output.Text != "one a" {
			t.Fatalf("QueueHead(chat 1) = %q, %v, %v; want one a", head.Output.Text, ok, err)
		}
		if err := s.Postpone(head.Seq, T0.Add(time.Minute), "429"); err != nil {
			t.Fatal(err)
		}
		head, _, _ = s.QueueHead(to("1", "").Queue())
		if head.Output.Text != "one a" || head.Attempts != 0 || !head.NotBefore.Equal(T0.Add(time.Minute)) || head.LastError != "429" {
			t.Errorf("postponed head = %+v; want one a, no attempt, held a minute", head)
		}
		if err := s.MarkSent(head.Seq); err != nil {
			t.Fatal(err)
		}
		if head, ok, _ := s.QueueHead(to("1", "").Queue()); !ok || head.Output.Text != "one b" {
			t.Errorf("QueueHead after the head was sent = %q, %v; want one b", head.Output.Text, ok)
		}
		deskHead, _, _ := s.QueueHead(desk.Queue())
		MustUpdate(t, s, func(tx bot.Tx) error { return tx.DropOutbox(deskHead.Seq) })
		if _, ok, err := s.QueueHead(desk.Queue()); err != nil || ok {
			t.Errorf("QueueHead of an emptied queue: ok %v, err %v; want none", ok, err)
		}
		if err := s.Update(func(tx bot.Tx) error { return tx.DropOutbox(deskHead.Seq) }); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("DropOutbox twice: err = %v, want ErrNotFound", err)
		}
		if err := s.Postpone(deskHead.Seq, T0, "x"); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("Postpone of a dropped entry: err = %v, want ErrNotFound", err)
		}
		if s.Full() {
			t.Error("Full on a store with room")
		}
	})
}

// runFailed: a failed turn's input leaves the inbox and is kept with its
// reason until deleted; its key is remembered as handled.
func runFailed(t *testing.T, start starter) {
	t.Run("Fail", func(t *testing.T) {
		s, clock, _ := start(t)
		mustEnqueue(t, s, nil, 2, Input("tg:1", "boom"), Input("tg:2", "fine"))
		item := pendingByText(t, s, "boom")
		clock.Advance(time.Second)
		MustUpdate(t, s, func(tx bot.Tx) error { return tx.Fail(item, "dialog: exploded") })
		if got := pendingTexts(t, s, 0); !slices.Equal(got, []string{"fine"}) {
			t.Errorf("Pending after Fail = %q, want [fine]", got)
		}
		var failed []bot.Failed
		MustView(t, s, func(tx bot.Tx) error {
			return tx.FailedInputs(func(f bot.Failed) error { failed = append(failed, f); return nil })
		})
		if len(failed) != 1 || failed[0].Seq != item.Seq || failed[0].Input.Text != "boom" ||
			failed[0].Error != "dialog: exploded" || !failed[0].At.Equal(T0.Add(time.Second)) {
			t.Fatalf("FailedInputs = %+v; want the boom input with its reason and time", failed)
		}
		mustEnqueue(t, s, nil, 0, Input("tg:1", "boom again")) // handled, so a redelivery is skipped
		if err := s.Update(func(tx bot.Tx) error { return tx.Fail(item, "again") }); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("Fail of an item no longer pending: err = %v, want ErrNotFound", err)
		}
		MustUpdate(t, s, func(tx bot.Tx) error { return tx.DeleteFailed(item.Seq) })
		n := 0
		MustView(t, s, func(tx bot.Tx) error {
			return tx.FailedInputs(func(bot.Failed) error { n++; return nil })
		})
		if n != 0 {
			t.Errorf("%d failed inputs after DeleteFailed", n)
		}
	})
}
