package storetest

import (
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"ombud/bot"
	"ombud/dialog"
	"ombud/policies"
)

// T0 is the suite's "now"; UTC, so times survive JSON and compare with
// reflect.DeepEqual.
var T0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// TTL is the dedupe memory the suite opens stores with.
const TTL = time.Hour

// Clock is the clock a store under test is given; the suite moves it
// instead of sleeping. Its zero value reads T0.
type Clock struct {
	mu sync.Mutex
	t  time.Duration // since T0
}

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return T0.Add(c.t)
}

// Advance moves the clock on.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t += d
}

// Opener makes the stores the suite checks.
type Opener struct {
	// Open makes a fresh, empty store that reads the time from now and
	// remembers handled input keys for ttl.
	Open func(t *testing.T, now func() time.Time, ttl time.Duration) bot.Store
	// Reopen, for a durable store, closes s and opens its data again; nil
	// for one that keeps nothing past its life.
	Reopen func(t *testing.T, s bot.Store) bot.Store
}

// Run checks that the stores o opens keep the bot.Store contract.
func Run(t *testing.T, o Opener) {
	start := func(t *testing.T) (s bot.Store, clock *Clock, reopen func() bot.Store) {
		clock = &Clock{}
		s = o.Open(t, clock.Now, TTL)
		if o.Reopen != nil {
			reopen = func() bot.Store {
				t.Helper()
				s = o.Reopen(t, s)
				return s
			}
		}
		return s, clock, reopen
	}
	t.Run("SessionRoundTrip", func(t *testing.T) { testSessionRoundTrip(t, start) })
	t.Run("ComplaintRoundTrip", func(t *testing.T) { testComplaintRoundTrip(t, start) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, start) })
	t.Run("ViewIsReadOnly", func(t *testing.T) { testViewIsReadOnly(t, start) })
	t.Run("CaseNumbers", func(t *testing.T) { testCaseNumbers(t, start) })
	t.Run("EnqueueOrder", func(t *testing.T) { testEnqueueOrder(t, start) })
	t.Run("EnqueueDedupe", func(t *testing.T) { testEnqueueDedupe(t, start) })
	t.Run("EnqueueCursor", func(t *testing.T) { testEnqueueCursor(t, start) })
	t.Run("UpdateAllOrNothing", func(t *testing.T) { testUpdateAllOrNothing(t, start) })
	t.Run("FullTurn", func(t *testing.T) { testFullTurn(t, start) })
	t.Run("Outbox", func(t *testing.T) { testOutbox(t, start) })
	t.Run("Timers", func(t *testing.T) { testTimers(t, start) })
	t.Run("Register", func(t *testing.T) { testRegister(t, start) })
	t.Run("ConcurrentCaseNumbers", func(t *testing.T) { testConcurrentCaseNumbers(t, start) })
	runRefs(t, start)
	runQueues(t, start)
	runFailed(t, start)
}

func testSessionRoundTrip(t *testing.T, start starter) {
	s, _, _ := start(t)
	want := Session("telegram", "42")
	MustUpdate(t, s, func(tx bot.Tx) error { return tx.PutSession("telegram:42", want) })
	var got dialog.Session
	MustView(t, s, func(tx bot.Tx) (err error) {
		got, err = tx.Session("telegram:42")
		return err
	})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Session = %+v\nwant %+v", got, want)
	}
}

func testComplaintRoundTrip(t *testing.T, start starter) {
	s, _, _ := start(t)
	want := Complaint("AXSE-2026-000001", "charged twice")
	MustUpdate(t, s, func(tx bot.Tx) error { return tx.PutComplaint(want) })
	var got dialog.Complaint
	MustView(t, s, func(tx bot.Tx) (err error) {
		got, err = tx.Complaint(want.ID)
		return err
	})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Complaint = %+v\nwant %+v", got, want)
	}
}

func testNotFound(t *testing.T, start starter) {
	s, _, _ := start(t)
	MustUpdate(t, s, func(tx bot.Tx) error {
		if err := tx.PutSession("console:1", Session("console", "1")); err != nil {
			return err
		}
		return tx.DeleteSession("console:1")
	})
	tests := []struct {
		name string
		read func(tx bot.Tx) error
	}{
		{"missing session", func(tx bot.Tx) error { _, err := tx.Session("telegram:404"); return err }},
		{"deleted session", func(tx bot.Tx) error { _, err := tx.Session("console:1"); return err }},
		{"missing complaint", func(tx bot.Tx) error { _, err := tx.Complaint("AXSE-2026-404"); return err }},
	}
	for _, tt := range tests {
		err := s.View(tt.read)
		if !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("%s: err = %v, want bot.ErrNotFound", tt.name, err)
		}
	}
}

func testViewIsReadOnly(t *testing.T, start starter) {
	s, _, _ := start(t)
	err := s.View(func(tx bot.Tx) error { return tx.PutSession("console:1", Session("console", "1")) })
	if err == nil {
		t.Fatal("PutSession in View: no error")
	}
	err = s.View(func(tx bot.Tx) error { _, err := tx.Session("console:1"); return err })
	if !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("session after View write: err = %v, want bot.ErrNotFound", err)
	}
}

func testCaseNumbers(t *testing.T, start starter) {
	s, _, reopen := start(t)
	steps := []struct {
		prefix string
		year   int
		want   int
	}{
		{"AXSE", 2026, 1},
		{"AXSE", 2026, 2},
		{"AXDK", 2026, 1},
		{"AXSE", 2027, 1},
		{"AXSE", 2026, 3},
		{"AXDK", 2026, 2},
	}
	for _, st := range steps {
		if got := mustCaseNumber(t, s, st.prefix, st.year); got != st.want {
			t.Errorf("NextCaseNumber(%s, %d) = %d, want %d", st.prefix, st.year, got, st.want)
		}
	}
	if reopen == nil {
		return
	}
	s = reopen()
	if got, want := mustCaseNumber(t, s, "AXSE", 2026), 4; got != want {
		t.Errorf("after reopen NextCaseNumber(AXSE, 2026) = %d, want %d", got, want)
	}
}

func testEnqueueOrder(t *testing.T, start starter) {
	s, _, _ := start(t)
	mustEnqueue(t, s, nil, 3, Input("tg:1", "a"), Input("tg:2", "b"), Input("tg:3", "c"))
	mustEnqueue(t, s, nil, 2, Input("tg:4", "d"), Input("tg:5", "e"))
	if got, want := pendingTexts(t, s, 0), []string{"a", "b", "c", "d", "e"}; !slices.Equal(got, want) {
		t.Errorf("Pending(0) = %q, want %q", got, want)
	}
	if got, want := pendingTexts(t, s, 2), []string{"a", "b"}; !slices.Equal(got, want) {
		t.Errorf("Pending(2) = %q, want %q", got, want)
	}
	items, err := s.Pending(0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(items); i++ {
		if items[i].Seq <= items[i-1].Seq {
			t.Errorf("Seq %d after %d: not increasing", items[i].Seq, items[i-1].Seq)
		}
	}
}

func testEnqueueDedupe(t *testing.T, start starter) {
	s, clock, _ := start(t)
	steps := []struct {
		name    string
		advance time.Duration
		done    string // text of the pending item to mark done first
		inputs  []dialog.Input
		want    int
	}{
		{name: "new keys", inputs: []dialog.Input{Input("tg:1", "a"), Input("tg:2", "b")}, want: 2},
		{name: "pending key", inputs: []dialog.Input{Input("tg:1", "a again")}, want: 0},
		{name: "same key twice in one call", inputs: []dialog.Input{Input("tg:3", "c"), Input("tg:3", "c again")}, want: 1},
		{name: "no key is always added", inputs: []dialog.Input{Input("", "x"), Input("", "x")}, want: 2},
		{name: "no key again", inputs: []dialog.Input{Input("", "x")}, want: 1},
		{name: "handled key", done: "a", inputs: []dialog.Input{Input("tg:1", "a again")}, want: 0},
		{name: "handled key just before expiry", advance: TTL - time.Nanosecond, inputs: []dialog.Input{Input("tg:1", "a again")}, want: 0},
		{name: "handled key after expiry", advance: time.Nanosecond, inputs: []dialog.Input{Input("tg:1", "a later")}, want: 1},
		{name: "key back in the inbox", inputs: []dialog.Input{Input("tg:1", "a later")}, want: 0},
	}
	for _, st := range steps {
		clock.Advance(st.advance)
		if st.done != "" {
			item := pendingByText(t, s, st.done)
			MustUpdate(t, s, func(tx bot.Tx) error { return tx.Done(item) })
		}
		got, err := s.Enqueue(nil, st.inputs...)
		if err != nil {
			t.Fatalf("%s: Enqueue: %v", st.name, err)
		}
		if got != st.want {
			t.Errorf("%s: Enqueue added %d, want %d", st.name, got, st.want)
		}
	}
	want := []string{"b", "c", "x", "x", "x", "a later"}
	if got := pendingTexts(t, s, 0); !slices.Equal(got, want) {
		t.Errorf("Pending = %q, want %q", got, want)
	}
}

func testEnqueueCursor(t *testing.T, start starter) {
	s, _, _ := start(t)
	if _, _, ok, err := s.Cursor("telegram"); err != nil || ok {
		t.Fatalf("Cursor before any = ok %v, err %v; want no cursor", ok, err)
	}
	mustEnqueue(t, s, &bot.Cursor{Name: "telegram", Value: 812346}, 1, Input("tg:812345", "a"))
	// Only a duplicate: the cursor still moves on.
	mustEnqueue(t, s, &bot.Cursor{Name: "telegram", Value: 812347}, 0, Input("tg:812345", "a"))
	mustEnqueue(t, s, &bot.Cursor{Name: "slack", Value: -1}, 0)
	tests := []struct {
		name string
		want int64
	}{
		{"telegram", 812347},
		{"slack", -1},
	}
	for _, tt := range tests {
		got, _, ok, err := s.Cursor(tt.name)
		if err != nil || !ok || got != tt.want {
			t.Errorf("Cursor(%s) = %d, %v, %v; want %d, true, nil", tt.name, got, ok, err, tt.want)
		}
	}
}

func testUpdateAllOrNothing(t *testing.T, start starter) {
	s, _, _ := start(t)
	mustEnqueue(t, s, nil, 1, Input("tg:1", "a"))
	item := pendingByText(t, s, "a")
	errBoom := errors.New("boom")
	err := s.Update(func(tx bot.Tx) error {
		if _, err := tx.NextCaseNumber("AXSE", 2026); err != nil {
			return err
		}
		if err := tx.PutSession("telegram:1", Session("telegram", "1")); err != nil {
			return err
		}
		if err := tx.AddOutbox(Output("hello")); err != nil {
			return err
		}
		if err := tx.Done(item); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Update err = %v, want errBoom", err)
	}
	err = s.View(func(tx bot.Tx) error { _, err := tx.Session("telegram:1"); return err })
	if !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("session after failed Update: err = %v, want bot.ErrNotFound", err)
	}
	if n := outboxLen(t, s); n != 0 {
		t.Errorf("OutboxLen after failed Update = %d, want 0", n)
	}
	if got := pendingTexts(t, s, 0); !slices.Equal(got, []string{"a"}) {
		t.Errorf("Pending after failed Update = %q, want [a]", got)
	}
	if got := mustCaseNumber(t, s, "AXSE", 2026); got != 1 {
		t.Errorf("NextCaseNumber after failed Update = %d, want 1", got)
	}
}

func testFullTurn(t *testing.T, start starter) {
	s, _, _ := start(t)
	in := Input("tg:7", "my card was charged twice")
	mustEnqueue(t, s, &bot.Cursor{Name: "telegram", Value: 8}, 1, in)
	items, err := s.Pending(10)
	if err != nil || len(items) != 1 {
		t.Fatalf("Pending = %v, %v; want one item", items, err)
	}
	item := items[0]
	sess := Session("telegram", "42")
	c := Complaint("AXSE-2026-000001", item.Input.Text)
	timers := []dialog.Timer{
		{Case: c.ID, Kind: dialog.TimerReminder, Deadline: "decision", At: T0.Add(24 * time.Hour)},
		{Case: c.ID, Kind: dialog.TimerDue, Deadline: "decision", At: T0.Add(48 * time.Hour)},
	}
	MustUpdate(t, s, func(tx bot.Tx) error {
		if err := tx.PutSession("telegram:42", sess); err != nil {
			return err
		}
		if err := tx.PutComplaint(c); err != nil {
			return err
		}
		if err := tx.AddOutbox(Output("receipt")); err != nil {
			return err
		}
		if err := tx.AddOutbox(Output("agents")); err != nil {
			return err
		}
		if err := tx.ReplaceTimers(c.ID, timers); err != nil {
			return err
		}
		return tx.Done(item)
	})

	MustView(t, s, func(tx bot.Tx) error {
		gotS, err := tx.Session("telegram:42")
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(gotS, sess) {
			t.Errorf("Session = %+v, want %+v", gotS, sess)
		}
		gotC, err := tx.Complaint(c.ID)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(gotC, c) {
			t.Errorf("Complaint = %+v, want %+v", gotC, c)
		}
		return nil
	})
	if got := pendingTexts(t, s, 0); len(got) != 0 {
		t.Errorf("Pending after turn = %q, want none", got)
	}
	if got, want := outboxTexts(t, s), []string{"receipt", "agents"}; !slices.Equal(got, want) {
		t.Errorf("Outbox = %q, want %q", got, want)
	}
	if got := dueTimers(t, s, T0.Add(72*time.Hour), 0); !reflect.DeepEqual(got, timers) {
		t.Errorf("DueTimers = %+v, want %+v", got, timers)
	}
	// The same item again: gone, so a second turn on it fails whole.
	err = s.Update(func(tx bot.Tx) error {
		if err := tx.AddOutbox(Output("twice")); err != nil {
			return err
		}
		return tx.Done(item)
	})
	if !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("second Done: err = %v, want bot.ErrNotFound", err)
	}
	if n := outboxLen(t, s); n != 2 {
		t.Errorf("OutboxLen after second Done = %d, want 2", n)
	}
}

func testOutbox(t *testing.T, start starter) {
	s, _, _ := start(t)
	MustUpdate(t, s, func(tx bot.Tx) error { return tx.AddOutbox(Output("a"), Output("b")) })
	MustUpdate(t, s, func(tx bot.Tx) error { return tx.AddOutbox(Output("c")) })
	if got, want := outboxTexts(t, s), []string{"a", "b", "c"}; !slices.Equal(got, want) {
		t.Fatalf("Outbox = %q, want %q", got, want)
	}
	items, err := s.Outbox(0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := items[0], items[1]

	later := T0.Add(time.Minute)
	if err := s.Retry(b.Seq, T0, "429 too many requests"); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	if err := s.Retry(b.Seq, later, "502 bad gateway"); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	if err := s.MarkSent(a.Seq); err != nil {
		t.Fatalf("MarkSent: %v", err)
	}
	MustUpdate(t, s, func(tx bot.Tx) error { return tx.AddOutbox(Output("d")) })

	items, err = s.Outbox(0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := itemTexts(items), []string{"b", "c", "d"}; !slices.Equal(got, want) {
		t.Fatalf("Outbox after Retry and MarkSent = %q, want %q", got, want)
	}
	got := items[0]
	want := bot.OutboxItem{Seq: b.Seq, Output: b.Output, Attempts: 2, NotBefore: later, LastError: "502 bad gateway", Queued: b.Queued}
	if b.Queued.IsZero() {
		t.Error("an outbox item has no queue time")
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("retried item = %+v, want %+v", got, want)
	}
	if items[1].Attempts != 0 || !items[1].NotBefore.IsZero() || items[1].LastError != "" {
		t.Errorf("untouched item = %+v, want no attempts", items[1])
	}
	if got := itemTexts(mustOutbox(t, s, 2)); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("Outbox(2) = %q, want [b c]", got)
	}
	if n := outboxLen(t, s); n != 3 {
		t.Errorf("OutboxLen = %d, want 3", n)
	}
	if err := s.MarkSent(a.Seq); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("MarkSent of a sent item: err = %v, want bot.ErrNotFound", err)
	}
	if err := s.Retry(a.Seq, later, "x"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("Retry of a sent item: err = %v, want bot.ErrNotFound", err)
	}
}

func testTimers(t *testing.T, start starter) {
	s, _, _ := start(t)
	if _, ok, err := s.NextTimer(); err != nil || ok {
		t.Fatalf("NextTimer on empty index = ok %v, err %v; want none", ok, err)
	}
	aRemind := dialog.Timer{Case: "A-1", Kind: dialog.TimerReminder, Deadline: "decision", At: T0.Add(1 * time.Hour)}
	aDue := dialog.Timer{Case: "A-1", Kind: dialog.TimerDue, Deadline: "decision", At: T0.Add(3 * time.Hour)}
	bDue := dialog.Timer{Case: "B-1", Kind: dialog.TimerDue, Deadline: "answer", At: T0.Add(2 * time.Hour)}
	MustUpdate(t, s, func(tx bot.Tx) error {
		if err := tx.ReplaceTimers("A-1", []dialog.Timer{aDue, aRemind}); err != nil {
			return err
		}
		return tx.ReplaceTimers("B-1", []dialog.Timer{bDue})
	})

	due := []struct {
		name  string
		now   time.Time
		limit int
		want  []dialog.Timer
	}{
		{"none due", T0, 0, nil},
		{"exactly at", T0.Add(time.Hour), 0, []dialog.Timer{aRemind}},
		{"two due", T0.Add(2 * time.Hour), 0, []dialog.Timer{aRemind, bDue}},
		{"limit", T0.Add(5 * time.Hour), 2, []dialog.Timer{aRemind, bDue}},
		{"all", T0.Add(5 * time.Hour), 0, []dialog.Timer{aRemind, bDue, aDue}},
	}
	for _, tt := range due {
		if got := dueTimers(t, s, tt.now, tt.limit); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: DueTimers = %+v, want %+v", tt.name, got, tt.want)
		}
	}
	if got, ok, err := s.NextTimer(); err != nil || !ok || !reflect.DeepEqual(got, aRemind) {
		t.Errorf("NextTimer = %+v, %v, %v; want %+v", got, ok, err, aRemind)
	}

	// Extending case A moves its due timer and drops the reminder; B
	// keeps its timer.
	aLater := dialog.Timer{Case: "A-1", Kind: dialog.TimerDue, Deadline: "decision", At: T0.Add(4 * time.Hour)}
	MustUpdate(t, s, func(tx bot.Tx) error { return tx.ReplaceTimers("A-1", []dialog.Timer{aLater}) })
	if got, want := dueTimers(t, s, T0.Add(10*time.Hour), 0), []dialog.Timer{bDue, aLater}; !reflect.DeepEqual(got, want) {
		t.Errorf("after ReplaceTimers: DueTimers = %+v, want %+v", got, want)
	}

	MustUpdate(t, s, func(tx bot.Tx) error { return tx.DeleteTimer(bDue) })
	MustUpdate(t, s, func(tx bot.Tx) error { return tx.DeleteTimer(bDue) }) // twice is fine
	if got, want := dueTimers(t, s, T0.Add(10*time.Hour), 0), []dialog.Timer{aLater}; !reflect.DeepEqual(got, want) {
		t.Errorf("after DeleteTimer: DueTimers = %+v, want %+v", got, want)
	}

	MustUpdate(t, s, func(tx bot.Tx) error { return tx.ReplaceTimers("A-1", nil) })
	if _, ok, err := s.NextTimer(); err != nil || ok {
		t.Errorf("NextTimer after clearing = ok %v, err %v; want none", ok, err)
	}

	bad := []struct {
		name   string
		caseID string
		timer  dialog.Timer
	}{
		{"other case", "A-1", bDue},
		{"slash in case", "A/1", dialog.Timer{Case: "A/1", Kind: dialog.TimerDue, At: T0}},
		{"before 1970", "A-1", dialog.Timer{Case: "A-1", Kind: dialog.TimerDue}},
	}
	for _, tt := range bad {
		err := s.Update(func(tx bot.Tx) error { return tx.ReplaceTimers(tt.caseID, []dialog.Timer{tt.timer}) })
		if err == nil {
			t.Errorf("%s: ReplaceTimers: no error", tt.name)
		}
	}
	if _, ok, err := s.NextTimer(); err != nil || ok {
		t.Errorf("NextTimer after rejected timers = ok %v, err %v; want none", ok, err)
	}
}

func testRegister(t *testing.T, start starter) {
	s, _, _ := start(t)
	ids := []string{"AXSE-2026-000002", "AXDK-2026-000001", "AXSE-2026-000001"}
	MustUpdate(t, s, func(tx bot.Tx) error {
		for _, id := range ids {
			if err := tx.PutComplaint(Complaint(id, "text of "+id)); err != nil {
				return err
			}
			if err := tx.PutSession("telegram:"+id, Session("telegram", id)); err != nil {
				return err
			}
		}
		return nil
	})
	var gotIDs []string
	if err := s.Complaints(func(c dialog.Complaint) error { gotIDs = append(gotIDs, c.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	wantIDs := []string{"AXDK-2026-000001", "AXSE-2026-000001", "AXSE-2026-000002"}
	if !slices.Equal(gotIDs, wantIDs) {
		t.Errorf("Complaints = %q, want %q", gotIDs, wantIDs)
	}
	errStopHere := errors.New("enough")
	n := 0
	err := s.Complaints(func(dialog.Complaint) error { n++; return errStopHere })
	if !errors.Is(err, errStopHere) || n != 1 {
		t.Errorf("Complaints with failing fn: err = %v after %d calls, want errStopHere after 1", err, n)
	}
}

func testConcurrentCaseNumbers(t *testing.T, start starter) {
	s, _, _ := start(t)
	const workers, each = 8, 50
	var (
		mu   sync.Mutex
		got  []int
		wg   sync.WaitGroup
		errs = make(chan error, workers)
	)
	for range workers {
		wg.Go(func() {
			for range each {
				var n int
				err := s.Update(func(tx bot.Tx) (err error) {
					n, err = tx.NextCaseNumber("AXSE", 2026)
					return err
				})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				got = append(got, n)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Update: %v", err)
	}
	slices.Sort(got)
	want := make([]int, workers*each)
	for i := range want {
		want[i] = i + 1
	}
	if !slices.Equal(got, want) {
		t.Errorf("case numbers = %v, want 1..%d once each", got, len(want))
	}
}

// Fixtures.

// Input is a consumer's message as the suite queues it.
func Input(key, text string) dialog.Input {
	return dialog.Input{Key: key, Kind: dialog.InputMessage, Channel: "telegram", Chat: "42", Lang: "sv-SE", Text: text, At: T0}
}

// Output is a message to a consumer as the suite queues it.
func Output(text string) dialog.Output {
	return dialog.Output{To: dialog.ToConsumer, Channel: "telegram", Chat: "42", Key: "test." + text, Text: text,
		Buttons: [][]dialog.Button{{{Label: "OK", Data: "ok"}}}}
}

// Session is a conversation in the middle of its intake, with answers of
// every kind.
func Session(channel, chat string) dialog.Session {
	return dialog.Session{
		Channel:        channel,
		Chat:           chat,
		Lang:           "sv",
		LangChosen:     true,
		State:          dialog.StateField,
		Issuer:         "amex-se",
		Field:          "amount",
		Contacted:      true,
		FirstComplaint: policies.Date{Year: 2026, Month: time.October, Day: 30},
		PriorAnswer:    dialog.PriorRejected,
		Answers: map[string]dialog.Answer{
			"date":       {Value: "2026-10-29", Display: "29 oktober 2026"},
			"receipt":    {Value: "yes", Display: "Ja", Attachments: []dialog.Attachment{{FileID: "f1", Name: "kvitto.pdf", MIME: "application/pdf", Size: 1234}}},
			"merchant":   {Skipped: true},
			"what_wrong": {Value: "Dubbeldebitering", Display: "Dubbeldebitering"},
		},
		Back:      []dialog.Position{{State: dialog.StateIssuer}, {State: dialog.StateField, Field: "date"}},
		UpdatedAt: T0,
	}
}

// Complaint is a filed case with every part set, its text the consumer's
// words.
func Complaint(id, text string) dialog.Complaint {
	extended := policies.Date{Year: 2027, Month: time.January, Day: 29}
	extendedEnds := time.Date(2027, 1, 29, 23, 0, 0, 0, time.UTC)
	return dialog.Complaint{
		ID:             id,
		Issuer:         "amex-se",
		PolicyVersion:  "2026-11-01",
		Channel:        "telegram",
		Chat:           "42",
		Lang:           "sv",
		Status:         dialog.CaseExtended,
		ReceivedAt:     T0,
		ReceivedDate:   policies.Date{Year: 2026, Month: time.November, Day: 26},
		Contacted:      true,
		FirstComplaint: policies.Date{Year: 2026, Month: time.October, Day: 30},
		PriorAnswer:    dialog.PriorRejected,
		Answers: []dialog.FiledAnswer{
			{Field: "what_wrong", Question: "Vad hände?", Value: text, Display: text},
		},
		Deadlines: []dialog.CaseDeadline{
			{Step: "issuer", ID: "decision", Label: "Beslut", Due: policies.Date{Year: 2026, Month: time.December, Day: 17},
				Ends: time.Date(2026, 12, 17, 23, 0, 0, 0, time.UTC), Extended: &extended, ExtendedEnds: &extendedEnds},
		},
		ClaimedBy:      "Anna",
		HumanOwned:     true,
		ExtendedReason: "waiting for the merchant",
		Decision:       &dialog.Decision{Outcome: dialog.OutcomePartial, Text: "Half refunded", By: "Anna", At: T0.Add(time.Hour)},
		History: []dialog.Event{
			{At: T0, Kind: dialog.EventSubmitted},
			{At: T0.Add(time.Minute), Kind: dialog.EventClaim, By: "Anna"},
		},
	}
}

// Helpers.

// MustUpdate runs fn in s.Update and fails the test on an error.
func MustUpdate(t testing.TB, s bot.Store, fn func(tx bot.Tx) error) {
	t.Helper()
	if err := s.Update(fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// MustView runs fn in s.View and fails the test on an error.
func MustView(t testing.TB, s bot.Store, fn func(tx bot.Tx) error) {
	t.Helper()
	if err := s.View(fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

func mustEnqueue(t testing.TB, s bot.Store, cursor *bot.Cursor, want int, inputs ...dialog.Input) {
	t.Helper()
	got, err := s.Enqueue(cursor, inputs...)
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	if got != want {
		t.Errorf("Enqueue added %d, want %d", got, want)
	}
}

func mustCaseNumber(t testing.TB, s bot.Store, prefix string, year int) int {
	t.Helper()
	var n int
	MustUpdate(t, s, func(tx bot.Tx) (err error) {
		n, err = tx.NextCaseNumber(prefix, year)
		return err
	})
	return n
}

func pendingTexts(t testing.TB, s bot.Store, limit int) []string {
	t.Helper()
	items, err := s.Pending(limit)
	if err != nil {
		t.Fatalf("Pending: %v", err)
	}
	var texts []string
	for _, it := range items {
		texts = append(texts, it.Input.Text)
	}
	return texts
}

func pendingByText(t testing.TB, s bot.Store, text string) bot.InboxItem {
	t.Helper()
	items, err := s.Pending(0)
	if err != nil {
		t.Fatalf("Pending: %v", err)
	}
	for _, it := range items {
		if it.Input.Text == text {
			return it
		}
	}
	t.Fatalf("no pending item %q", text)
	return bot.InboxItem{}
}

func mustOutbox(t testing.TB, s bot.Store, limit int) []bot.OutboxItem {
	t.Helper()
	items, err := s.Outbox(limit)
	if err != nil {
		t.Fatalf("Outbox: %v", err)
	}
	return items
}

func outboxTexts(t testing.TB, s bot.Store) []string {
	t.Helper()
	return itemTexts(mustOutbox(t, s, 0))
}

func itemTexts(items []bot.OutboxItem) []string {
	var texts []string
	for _, it := range items {
		texts = append(texts, it.Output.Text)
	}
	return texts
}

func outboxLen(t testing.TB, s bot.Store) int {
	t.Helper()
	n, err := s.OutboxLen()
	if err != nil {
		t.Fatalf("OutboxLen: %v", err)
	}
	return n
}

func dueTimers(t testing.TB, s bot.Store, now time.Time, limit int) []dialog.Timer {
	t.Helper()
	timers, err := s.DueTimers(now, limit)
	if err != nil {
		t.Fatalf("DueTimers: %v", err)
	}
	return timers
}
