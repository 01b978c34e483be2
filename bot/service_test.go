package bot_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"ombud/bot"
	"ombud/dialog"
	"ombud/locales"
	"ombud/policies"
	"ombud/store"
)

// recorder is a bot.Sender that keeps what it sent and can be told to fail.
type recorder struct {
	mu   sync.Mutex
	sent []dialog.Output
	fail error
}

func (r *recorder) Send(_ context.Context, out dialog.Output) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.sent = append(r.sent, out)
	return nil
}

func (r *recorder) keys() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ks []string
	for _, o := range r.sent {
		ks = append(ks, o.Key)
	}
	return ks
}

// shown returns the data of the latest button sent whose value is value,
// as a consumer presses what is on screen; value itself if none shows it.
func (r *recorder) shown(value string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.sent) - 1; i >= 0; i-- {
		for _, row := range r.sent[i].Buttons {
			for _, b := range row {
				if _, v, _ := strings.Cut(b.Data, "|"); v == value || b.Data == value {
					return b.Data
				}
			}
		}
	}
	return value
}

type fixture struct {
	svc      *bot.Service
	st       *store.Store
	consumer *recorder
	agents   *recorder
	now      time.Time
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	set, err := policies.Load(policies.Bundled(), policies.BundledDir)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{consumer: &recorder{}, agents: &recorder{}, now: time.Date(2026, 12, 18, 9, 0, 0, 0, time.UTC)}
	st, err := store.Open(t.TempDir(), store.Options{Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.st = st
	f.svc = &bot.Service{
		Store:     st,
		Engine:    &dialog.Engine{Policies: func() *policies.Set { return set }, Catalog: cat},
		Log:       slog.New(slog.DiscardHandler),
		Now:       func() time.Time { return f.now },
		Consumers: map[string]bot.Sender{"test": f.consumer},
		Agents:    f.agents,
	}
	return f
}

var seq int

func (f *fixture) input(t testing.TB, in dialog.Input) {
	t.Helper()
	seq++
	in.Channel, in.Chat, in.Lang = "test", "c1", "en"
	if in.Kind == dialog.InputChoice {
		in.Data = f.consumer.shown(in.Data)
	}
	if in.Key == "" {
		in.Key = fmt.Sprintf("k%d", seq)
	}
	if err := f.svc.Submit(in); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ProcessInbox(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Relay(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) session(t testing.TB) dialog.Session {
	t.Helper()
	var s dialog.Session
	if err := f.svc.Store.View(func(tx bot.Tx) error {
		var err error
		s, err = tx.Session(dialog.SessionKey("test", "c1"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDuplicateInputIsHandledOnce(t *testing.T) {
	f := newFixture(t)
	f.input(t, dialog.Input{Key: "tg:1", Kind: dialog.InputCommand, Command: dialog.CommandStart, Arg: "amex-se"})
	f.input(t, dialog.Input{Key: "tg:1", Kind: dialog.InputCommand, Command: dialog.CommandStart, Arg: "amex-se"})
	if got := f.consumer.keys(); len(got) != 1 || got[0] != "intake.greeting" {
		t.Errorf("sent %v, want one greeting", got)
	}
}

func TestPanicBecomesApologyAndLosesNothingElse(t *testing.T) {
	f := newFixture(t)
	f.input(t, dialog.Input{Kind: dialog.InputCommand, Command: dialog.CommandStart, Arg: "amex-se"})
	f.inputFailing(t, dialog.Input{Kind: dialog.InputChoice, Data: "go"}, "policy registry exploded")
	if got := f.consumer.keys(); got[len(got)-1] != "error.internal" {
		t.Fatalf("sent %v, want the generic apology last", got)
	}
	if s := f.session(t); s.State != dialog.StatePrivacy {
		t.Errorf("a failed turn changed the session: %s", s.State)
	}
	if pending, _ := f.svc.Store.Pending(0); len(pending) != 0 {
		t.Errorf("the failed input is still pending: %v", pending)
	}
	var failed []bot.Failed
	f.st.FailedInputs(func(x bot.Failed) error { failed = append(failed, x); return nil })
	if len(failed) != 1 || !strings.HasSuffix(failed[0].Input.Data, "|go") || !strings.Contains(failed[0].Error, "policy registry exploded") {
		t.Errorf("failed input not kept: %+v", failed)
	}
	// The conversation carries on.
	f.input(t, dialog.Input{Kind: dialog.InputChoice, Data: "go"})
	if s := f.session(t); s.State != dialog.StateContacted {
		t.Errorf("after recovery the state is %s", s.State)
	}
}

func TestRelayKeepsOrderWhenASendFails(t *testing.T) {
	f := newFixture(t)
	f.consumer.fail = errors.New("telegram: 502 bad gateway")
	if err := f.svc.Submit(dialog.Input{Key: "a", Kind: dialog.InputCommand, Command: dialog.CommandStart, Arg: "amex-se", Channel: "test", Chat: "c1"},
		dialog.Input{Key: "b", Kind: dialog.InputChoice, Data: "1|go", Channel: "test", Chat: "c1"}); err != nil { // the greeting's keyboard
		t.Fatal(err)
	}
	if _, err := f.svc.ProcessInbox(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Relay(context.Background()); err == nil {
		t.Fatal("relay reported success while the platform failed")
	}
	if n, _ := f.svc.Store.OutboxLen(); n != 2 {
		t.Fatalf("outbox has %d entries after a failed send, want 2", n)
	}
	f.consumer.fail = nil
	if _, err := f.svc.Relay(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.consumer.keys(), " "); got != "intake.greeting intake.contacted" {
		t.Errorf("sent %s, want the greeting then the question", got)
	}
}

func TestTimersFireOnceThroughTheStore(t *testing.T) {
	f := newFixture(t)
	f.file(t, "amex-dk")
	if s := f.session(t); s.State != dialog.StateSubmitted {
		t.Fatalf("not filed: %s", s.State)
	}
	next, ok, err := f.svc.Store.NextTimer()
	if err != nil || !ok {
		t.Fatalf("no timer stored: %v", err)
	}
	f.now = time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC) // every deadline has passed
	if _, err := f.svc.FireTimers(context.Background(), f.now); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Relay(context.Background()); err != nil {
		t.Fatal(err)
	}
	passed := 0
	for _, k := range f.consumer.keys() {
		if k == "case.deadline_passed" {
			passed++
		}
	}
	if passed == 0 {
		t.Fatalf("consumer not told the deadline passed (first timer %+v): %v", next, f.consumer.keys())
	}
	before := len(f.consumer.keys())
	if n, err := f.svc.FireTimers(context.Background(), f.now); err != nil || n != 0 {
		t.Errorf("second firing: %d timers, %v", n, err)
	}
	if _, ok, _ := f.svc.Store.NextTimer(); ok {
		t.Error("timers left after every deadline passed")
	}
	if len(f.consumer.keys()) != before {
		t.Error("a timer fired twice")
	}
}

// inputFailing runs one input through a dialog that panics with msg.
func (f *fixture) inputFailing(t testing.TB, in dialog.Input, msg string) {
	t.Helper()
	good := f.svc.Engine.Policies
	f.svc.Engine.Policies = func() *policies.Set { panic(msg) }
	defer func() { f.svc.Engine.Policies = good }()
	f.input(t, in)
}

// file files a complaint with issuer through the service.
func (f *fixture) file(t testing.TB, issuer string) {
	t.Helper()
	for _, in := range []dialog.Input{
		{Kind: dialog.InputCommand, Command: dialog.CommandStart, Arg: issuer},
		{Kind: dialog.InputChoice, Data: "go"},
		{Kind: dialog.InputChoice, Data: "no"},
		{Kind: dialog.InputChoice, Data: "file"},
	} {
		f.input(t, in)
	}
	for i := 0; f.session(t).State == dialog.StateField && i < 20; i++ {
		f.input(t, answerFor(t, f))
	}
	f.input(t, dialog.Input{Kind: dialog.InputChoice, Data: "submit"})
}

// answerFor gives a valid answer to the question the session is on.
func answerFor(t testing.TB, f *fixture) dialog.Input {
	s := f.session(t)
	p, _ := f.svc.Engine.Policies().Get(s.Issuer)
	field, _ := p.Field(s.Field)
	switch field.Type {
	case policies.FieldChoice:
		return dialog.Input{Kind: dialog.InputChoice, Data: "choice:" + field.Choices[0].ID}
	case policies.FieldAttachments, policies.FieldReference:
		if field.Type == policies.FieldAttachments {
			return dialog.Input{Kind: dialog.InputChoice, Data: "done"}
		}
		return dialog.Input{Kind: dialog.InputChoice, Data: "skip"}
	case policies.FieldDate:
		return dialog.Input{Kind: dialog.InputMessage, Text: "2026-12-01"}
	case policies.FieldAmount:
		return dialog.Input{Kind: dialog.InputMessage, Text: "1 250 kr"}
	case policies.FieldEmail:
		return dialog.Input{Kind: dialog.InputMessage, Text: "anna@example.dk"}
	case policies.FieldText:
		return dialog.Input{Kind: dialog.InputMessage, Text: "Aarhus"}
	}
	return dialog.Input{Kind: dialog.InputMessage, Text: "The shop charged me twice for one purchase."}
}

// BenchmarkDurableTurn is one intake turn through bot and store: load the
// session, run the dialog, save session, outbox and "input done" in one
// synced transaction. Compare with store's BenchmarkBareTxn in the same run:
//
//	go test -run '^$' -bench 'DurableTurn|BareTxn' -benchmem ./bot ./store
func BenchmarkDurableTurn(b *testing.B) {
	f := newFixture(b)
	f.input(b, dialog.Input{Kind: dialog.InputCommand, Command: dialog.CommandStart, Arg: "amex-se"})
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		// Alternate between two states so every turn does real work.
		in := dialog.Input{Key: fmt.Sprintf("bench:%d", i), Kind: dialog.InputCommand, Command: dialog.CommandLanguage, Arg: []string{"sv", "en"}[i%2],
			Channel: "test", Chat: "c1"}
		if err := f.svc.Submit(in); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if n, err := f.svc.ProcessInbox(ctx); err != nil || n != 1 {
			b.Fatalf("handled %d: %v", n, err)
		}
	}
}

// When a closed case's retention ends, the scheduler erases its personal
// data and keeps it pseudonymised in the register.
func TestRetentionPurge(t *testing.T) {
	f := newFixture(t)
	f.file(t, "amex-dk")
	caseID := f.session(t).Case
	f.input(t, dialog.Input{Kind: dialog.InputAgent, Case: caseID, Agent: &dialog.AgentAction{Action: dialog.ActionClose, Agent: "Eva"}})

	next, ok, err := f.svc.Store.NextTimer()
	if err != nil || !ok || next.Kind != dialog.TimerPurge {
		t.Fatalf("no purge timer after closing: %+v %v", next, err)
	}
	if y := next.At.Year(); y != 2029 {
		t.Errorf("purge at %s, want three years after closing (amex-dk)", next.At)
	}
	f.now = next.At.Add(time.Minute)
	if _, err := f.svc.FireTimers(context.Background(), f.now); err != nil {
		t.Fatal(err)
	}
	var c dialog.Complaint
	if err := f.svc.Store.View(func(tx bot.Tx) error {
		var err error
		c, err = tx.Complaint(caseID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !c.Erased || len(c.Answers) != 0 || c.Chat != "" || c.Status != dialog.CaseClosed || c.ReceivedDate.IsZero() {
		t.Errorf("after retention: erased %v answers %d chat %q status %s", c.Erased, len(c.Answers), c.Chat, c.Status)
	}
	if _, err := f.svc.Relay(context.Background()); err != nil {
		t.Fatal(err)
	}
	if k := f.agents.keys(); k[len(k)-1] != "agent.erased" {
		t.Errorf("desk not told: %v", k)
	}
}

// An erasure also removes the consumer's messages kept aside after a fault.
func TestEraseRemovesFailedInputs(t *testing.T) {
	f := newFixture(t)
	f.input(t, dialog.Input{Kind: dialog.InputCommand, Command: dialog.CommandStart, Arg: "amex-se"})
	f.inputFailing(t, dialog.Input{Kind: dialog.InputMessage, Text: "hemligt meddelande"}, "boom")
	f.input(t, dialog.Input{Kind: dialog.InputCommand, Command: dialog.CommandDelete})
	f.input(t, dialog.Input{Kind: dialog.InputChoice, Data: "erase:yes"})
	n := 0
	f.st.FailedInputs(func(bot.Failed) error { n++; return nil })
	if n != 0 {
		t.Errorf("%d failed inputs survived the erasure", n)
	}
}

// A purge queued before the case was reopened leaves the reopened case alone.
func TestPurgeSkipsAReopenedCase(t *testing.T) {
	f := newFixture(t)
	f.file(t, "amex-dk")
	caseID := f.session(t).Case
	agent := func(action dialog.Action) {
		f.input(t, dialog.Input{Kind: dialog.InputAgent, Case: caseID, Agent: &dialog.AgentAction{Action: action, Agent: "Eva"}})
	}
	agent(dialog.ActionClose)
	tm, _, _ := f.svc.Store.NextTimer()
	agent(dialog.ActionReopen)
	f.input(t, dialog.Input{Key: "late-purge", Kind: dialog.InputTimer, Case: caseID, Timer: &tm})
	var c dialog.Complaint
	f.svc.Store.View(func(tx bot.Tx) error { c, _ = tx.Complaint(caseID); return nil })
	if c.Erased || c.Chat == "" {
		t.Errorf("a reopened case was erased")
	}
}

// blocker blocks sends to one chat until released.
type blocker struct {
	recorder
	stuck   string
	release chan struct{}
}

func (b *blocker) Send(ctx context.Context, out dialog.Output) error {
	if out.Chat == b.stuck {
		select {
		case <-b.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return b.recorder.Send(ctx, out)
}

// One chat whose sends hang does not hold up the others.
func TestRelayDoesNotLetOneChatBlockOthers(t *testing.T) {
	f := newFixture(t)
	b := &blocker{stuck: "c1", release: make(chan struct{})}
	f.svc.Consumers["test"] = b
	for _, chat := range []string{"c1", "c2", "c3"} {
		if err := f.svc.Submit(dialog.Input{Key: "s-" + chat, Kind: dialog.InputCommand, Command: dialog.CommandStart, Arg: "amex-se", Channel: "test", Chat: chat}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.svc.Run(ctx, bot.RunOptions{Poll: 20 * time.Millisecond}) }()
	f.svc.Wake()
	deadline := time.Now().Add(10 * time.Second)
	for len(b.keys()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // waiting on the service's goroutines; not a timing assertion
	}
	if got := len(b.keys()); got != 2 {
		t.Errorf("%d chats answered while one chat hangs, want 2", got)
	}
	close(b.release)
	cancel()
	<-done
}

// A delivered agent's reply is marked on the desk once: the mark, which
// carries the receipt too, must not queue another mark (a loop of
// reactions that Slack answers already_reacted).
func TestDeliveredMarkIsQueuedOnce(t *testing.T) {
	f := newFixture(t)
	f.file(t, "amex-se")
	caseID := f.session(t).Case
	f.input(t, dialog.Input{Kind: dialog.InputAgent, Case: caseID, Ref: "slack:C1:1.1",
		Agent: &dialog.AgentAction{Action: dialog.ActionReply, Agent: "Eva", Text: "Vi tittar på det."}})
	for i := 0; i < 5; i++ { // relay what is queued, several times over
		if _, err := f.svc.Relay(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	marks := 0
	f.agents.mu.Lock()
	for _, o := range f.agents.sent {
		if o.Notice == dialog.NoticeDelivered {
			marks++
		}
	}
	f.agents.mu.Unlock()
	if marks != 1 {
		t.Errorf("%d delivered marks, want 1: %v", marks, f.agents.keys())
	}
	if n, _ := f.svc.Store.OutboxLen(); n != 0 {
		t.Errorf("%d entries left in the outbox", n)
	}
}

// A 429 is an order to wait, not a failure: it does not grow the backoff
// of the server errors that may follow.
func TestWaitingIsNotFailing(t *testing.T) {
	f := newFixture(t)
	f.consumer.fail = &bot.RetryAfterError{Wait: time.Second, Err: errors.New("429")}
	if err := f.svc.Submit(dialog.Input{Key: "s", Kind: dialog.InputCommand, Command: dialog.CommandStart, Arg: "amex-se", Channel: "test", Chat: "c1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ProcessInbox(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 17; i++ {
		f.now = f.now.Add(2 * time.Second)
		f.svc.Relay(context.Background())
	}
	items, _ := f.svc.Store.Outbox(10)
	if len(items) != 1 || items[0].Attempts != 0 {
		t.Fatalf("after seventeen 429s: %+v", items)
	}
	f.consumer.fail = errors.New("telegram: 502 bad gateway")
	f.now = f.now.Add(2 * time.Second)
	f.svc.Relay(context.Background())
	items, _ = f.svc.Store.Outbox(10)
	if wait := items[0].NotBefore.Sub(f.now); len(items) != 1 || items[0].Attempts != 1 || wait > 2*time.Second {
		t.Errorf("a 502 after seventeen 429s waits %s (attempt %d), want about a second", wait, items[0].Attempts)
	}
	for attempts := 0; attempts < 40; attempts++ {
		if d := bot.Backoff(attempts); d > bot.MaxBackoff+bot.MaxBackoff/4 || d < time.Second*3/4 {
			t.Fatalf("bot.Backoff(%d) = %s", attempts, d)
		}
	}
}

// A chat's updates are handled in Telegram's order even when they arrived
// out of it, as they can over a webhook's parallel connections.
func TestUpdatesInTheirOwnOrder(t *testing.T) {
	in := func(key, chat string) bot.InboxItem {
		return bot.InboxItem{Input: dialog.Input{Key: key, Channel: "telegram", Chat: chat}}
	}
	items := []bot.InboxItem{in("tg:12", "a"), in("tg:20", "b"), in("tg:11", "a"), in("slack:E1", "x"), in("tg:10", "a"), in("tg:19", "b")}
	var got []string
	for _, it := range bot.InSentOrder(items) {
		got = append(got, it.Input.Key)
	}
	if want := "tg:10 tg:19 tg:11 slack:E1 tg:12 tg:20"; strings.Join(got, " ") != want {
		t.Errorf("order %v, want %s", got, want)
	}
}
