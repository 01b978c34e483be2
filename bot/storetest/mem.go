// Package storetest is the contract every bot.Store keeps, as a suite any
// implementation runs (Run), and Mem, a store in memory that keeps it:
// the proof that the service needs nothing of Badger's, and a store for
// tests that want no disk.
package storetest

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"ombud/bot"
	"ombud/dialog"
)

// Mem is a bot.Store held in memory. Values are kept as JSON, as a real
// store keeps them, so nothing read aliases anything stored. A write
// transaction works on a copy of the whole state and swaps it in on
// success: simple, and fast enough for tests.
type Mem struct {
	now func() time.Time
	ttl time.Duration

	mu sync.Mutex // one writer at a time; readers take a snapshot
	st *memState
}

type memState struct {
	sessions   map[string][]byte
	complaints map[string][]byte
	numbers    map[string]int
	inbox      map[uint64][]byte
	pending    map[string]uint64    // input key -> seq
	handled    map[string]time.Time // input key -> memory expiry
	outbox     map[uint64]bot.OutboxItem
	timers     map[string]dialog.Timer // timerKey -> timer
	cursors    map[string]memCursor
	failed     map[uint64]bot.Failed
	refs       map[string]string
	nextIn     uint64
	nextOut    uint64
}

type memCursor struct {
	value int64
	at    time.Time
}

var _ bot.Store = (*Mem)(nil)

// NewMem makes an empty store reading the time from now (time.Now if
// nil) and remembering handled input keys for ttl.
func NewMem(now func() time.Time, ttl time.Duration) *Mem {
	if now == nil {
		now = time.Now
	}
	return &Mem{now: now, ttl: ttl, st: &memState{
		sessions: map[string][]byte{}, complaints: map[string][]byte{}, numbers: map[string]int{},
		inbox: map[uint64][]byte{}, pending: map[string]uint64{}, handled: map[string]time.Time{},
		outbox: map[uint64]bot.OutboxItem{}, timers: map[string]dialog.Timer{}, cursors: map[string]memCursor{},
		failed: map[uint64]bot.Failed{}, refs: map[string]string{},
	}}
}

func (s *memState) clone() *memState {
	c := *s
	c.sessions, c.complaints, c.numbers = maps.Clone(s.sessions), maps.Clone(s.complaints), maps.Clone(s.numbers)
	c.inbox, c.pending, c.handled = maps.Clone(s.inbox), maps.Clone(s.pending), maps.Clone(s.handled)
	c.outbox, c.timers, c.cursors = maps.Clone(s.outbox), maps.Clone(s.timers), maps.Clone(s.cursors)
	c.failed, c.refs = maps.Clone(s.failed), maps.Clone(s.refs)
	return &c
}

// write runs fn on a copy of the state and keeps the copy if fn succeeds.
func (m *Mem) write(fn func(st *memState) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	next := m.st.clone()
	if err := fn(next); err != nil {
		return err
	}
	m.st = next
	return nil
}

// read gives fn the state as it is; fn must not change it.
func (m *Mem) read(fn func(st *memState) error) error {
	m.mu.Lock()
	st := m.st // writes replace the state, never change it
	m.mu.Unlock()
	return fn(st)
}

// Update implements bot.Store.
func (m *Mem) Update(fn func(bot.Tx) error) error {
	return m.write(func(st *memState) error { return fn(&memTx{m: m, st: st, writable: true}) })
}

// View implements bot.Store.
func (m *Mem) View(fn func(bot.Tx) error) error {
	return m.read(func(st *memState) error { return fn(&memTx{m: m, st: st}) })
}

// Enqueue implements bot.Inbox.
func (m *Mem) Enqueue(cursor *bot.Cursor, inputs ...dialog.Input) (added int, err error) {
	if cursor != nil && cursor.Name == "" {
		return 0, errors.New("storetest: enqueue: cursor without a name")
	}
	err = m.write(func(st *memState) error {
		now := m.now()
		for _, in := range inputs {
			if in.Key != "" {
				if _, queued := st.pending[in.Key]; queued || now.Before(st.handled[in.Key]) {
					continue
				}
			}
			st.nextIn++
			b, err := json.Marshal(in)
			if err != nil {
				return err
			}
			st.inbox[st.nextIn] = b
			if in.Key != "" {
				st.pending[in.Key] = st.nextIn
			}
			added++
		}
		if cursor != nil {
			st.cursors[cursor.Name] = memCursor{value: cursor.Value, at: now}
		}
		return nil
	})
	return added, err
}

// Cursor implements bot.Inbox.
func (m *Mem) Cursor(name string) (value int64, at time.Time, ok bool, err error) {
	err = m.read(func(st *memState) error {
		var c memCursor
		c, ok = st.cursors[name]
		value, at = c.value, c.at
		return nil
	})
	return value, at, ok, err
}

// Pending implements bot.Store.
func (m *Mem) Pending(limit int) (items []bot.InboxItem, err error) {
	err = m.read(func(st *memState) error {
		for _, seq := range firstKeys(st.inbox, limit) {
			var in dialog.Input
			if err := json.Unmarshal(st.inbox[seq], &in); err != nil {
				return err
			}
			items = append(items, bot.InboxItem{Seq: seq, Input: in})
		}
		return nil
	})
	return items, err
}

// Outbox implements bot.Store.
func (m *Mem) Outbox(limit int) (items []bot.OutboxItem, err error) {
	err = m.read(func(st *memState) error {
		for _, seq := range firstKeys(st.outbox, limit) {
			items = append(items, st.outbox[seq])
		}
		return nil
	})
	return items, err
}

// OutboxHeads implements bot.Store.
func (m *Mem) OutboxHeads() (items []bot.OutboxItem, err error) {
	err = m.read(func(st *memState) error {
		seen := map[string]bool{}
		for _, seq := range firstKeys(st.outbox, 0) {
			if q := st.outbox[seq].Output.Queue(); !seen[q] {
				seen[q] = true
				items = append(items, st.outbox[seq])
			}
		}
		return nil
	})
	return items, err
}

// QueueHead implements bot.Store.
func (m *Mem) QueueHead(queue string) (item bot.OutboxItem, ok bool, err error) {
	err = m.read(func(st *memState) error {
		for _, seq := range firstKeys(st.outbox, 0) {
			if st.outbox[seq].Output.Queue() == queue {
				item, ok = st.outbox[seq], true
				return nil
			}
		}
		return nil
	})
	return item, ok, err
}

// OutboxLen implements bot.Store.
func (m *Mem) OutboxLen() (n int, err error) {
	err = m.read(func(st *memState) error { n = len(st.outbox); return nil })
	return n, err
}

// MarkSent implements bot.Store.
func (m *Mem) MarkSent(seq uint64) error {
	return m.write(func(st *memState) error { return st.dropOutbox(seq) })
}

// Retry implements bot.Store.
func (m *Mem) Retry(seq uint64, notBefore time.Time, lastErr string) error {
	return m.postpone(seq, notBefore, lastErr, true)
}

// Postpone implements bot.Store.
func (m *Mem) Postpone(seq uint64, notBefore time.Time, reason string) error {
	return m.postpone(seq, notBefore, reason, false)
}

func (m *Mem) postpone(seq uint64, notBefore time.Time, lastErr string, failed bool) error {
	return m.write(func(st *memState) error {
		it, ok := st.outbox[seq]
		if !ok {
			return fmt.Errorf("storetest: retry %d: %w", seq, bot.ErrNotFound)
		}
		if failed {
			it.Attempts++
		}
		it.NotBefore, it.LastError = notBefore, lastErr
		st.outbox[seq] = it
		return nil
	})
}

// NextTimer implements bot.Store.
func (m *Mem) NextTimer() (t dialog.Timer, ok bool, err error) {
	timers, err := m.dueTimers(time.Unix(1<<62, 0), 1)
	if err != nil || len(timers) == 0 {
		return dialog.Timer{}, false, err
	}
	return timers[0], true, nil
}

// DueTimers implements bot.Store.
func (m *Mem) DueTimers(now time.Time, limit int) ([]dialog.Timer, error) {
	return m.dueTimers(now, limit)
}

func (m *Mem) dueTimers(now time.Time, limit int) (due []dialog.Timer, err error) {
	err = m.read(func(st *memState) error {
		for _, key := range slices.Sorted(maps.Keys(st.timers)) {
			t := st.timers[key]
			if t.At.After(now) || (limit > 0 && len(due) == limit) {
				break
			}
			due = append(due, t)
		}
		return nil
	})
	return due, err
}

// Complaints implements bot.Store.
func (m *Mem) Complaints(fn func(dialog.Complaint) error) error {
	return m.read(func(st *memState) error { return (&memTx{m: m, st: st}).Complaints(fn) })
}

// Purge implements bot.Store: memory keeps no old versions.
func (m *Mem) Purge() error { return nil }

// Full implements bot.Store: memory is never full here.
func (m *Mem) Full() bool { return false }

// Ref implements bot.Refs.
func (m *Mem) Ref(kind, key string) (value string, ok bool, err error) {
	err = m.read(func(st *memState) error { value, ok = st.refs[kind+"/"+key]; return nil })
	return value, ok, err
}

// PutRef implements bot.Refs.
func (m *Mem) PutRef(kind, key, value string) error {
	return m.PutRefs(bot.Ref{Kind: kind, Key: key, Value: value})
}

// PutRefs implements bot.Refs.
func (m *Mem) PutRefs(refs ...bot.Ref) error {
	return m.write(func(st *memState) error {
		for _, r := range refs {
			st.refs[r.Kind+"/"+r.Key] = r.Value
		}
		return nil
	})
}

// memTx is a transaction over one state: the writable copy of an Update,
// or the current state in a View.
type memTx struct {
	m        *Mem
	st       *memState
	writable bool
}

var _ bot.Tx = (*memTx)(nil)

var errReadOnly = errors.New("storetest: write in a View")

func (tx *memTx) writing() error {
	if !tx.writable {
		return errReadOnly
	}
	return nil
}

func (tx *memTx) Session(key string) (s dialog.Session, err error) {
	b, ok := tx.st.sessions[key]
	if !ok {
		return s, fmt.Errorf("storetest: session %s: %w", key, bot.ErrNotFound)
	}
	return s, json.Unmarshal(b, &s)
}

func (tx *memTx) PutSession(key string, s dialog.Session) error {
	return tx.putJSON(tx.st.sessions, key, s)
}

func (tx *memTx) DeleteSession(key string) error {
	if err := tx.writing(); err != nil {
		return err
	}
	delete(tx.st.sessions, key)
	return nil
}

func (tx *memTx) Complaint(id string) (c dialog.Complaint, err error) {
	b, ok := tx.st.complaints[id]
	if !ok {
		return c, fmt.Errorf("storetest: complaint %s: %w", id, bot.ErrNotFound)
	}
	return c, json.Unmarshal(b, &c)
}

func (tx *memTx) PutComplaint(c dialog.Complaint) error {
	if c.ID == "" {
		return errors.New("storetest: put complaint: empty id")
	}
	return tx.putJSON(tx.st.complaints, c.ID, c)
}

func (tx *memTx) putJSON(m map[string][]byte, key string, v any) error {
	if err := tx.writing(); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	m[key] = b
	return nil
}

func (tx *memTx) Complaints(fn func(dialog.Complaint) error) error {
	for _, id := range slices.Sorted(maps.Keys(tx.st.complaints)) {
		c, err := tx.Complaint(id)
		if err != nil {
			return err
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

func (tx *memTx) NextCaseNumber(prefix string, year int) (int, error) {
	if err := tx.writing(); err != nil {
		return 0, err
	}
	if prefix == "" || strings.Contains(prefix, "/") {
		return 0, fmt.Errorf("storetest: next case number: prefix %q", prefix)
	}
	key := fmt.Sprintf("%s/%d", prefix, year)
	tx.st.numbers[key]++
	return tx.st.numbers[key], nil
}

func (tx *memTx) AddOutbox(outs ...dialog.Output) error {
	if err := tx.writing(); err != nil {
		return err
	}
	for _, out := range outs {
		// A JSON round trip, as a stored output makes.
		b, err := json.Marshal(out)
		if err != nil {
			return err
		}
		var stored dialog.Output
		if err := json.Unmarshal(b, &stored); err != nil {
			return err
		}
		tx.st.nextOut++
		tx.st.outbox[tx.st.nextOut] = bot.OutboxItem{Seq: tx.st.nextOut, Output: stored, Queued: tx.m.now().UTC()}
	}
	return nil
}

func (tx *memTx) DropOutbox(seq uint64) error {
	if err := tx.writing(); err != nil {
		return err
	}
	return tx.st.dropOutbox(seq)
}

func (st *memState) dropOutbox(seq uint64) error {
	if _, ok := st.outbox[seq]; !ok {
		return fmt.Errorf("storetest: outbox %d: %w", seq, bot.ErrNotFound)
	}
	delete(st.outbox, seq)
	return nil
}

func (tx *memTx) Done(item bot.InboxItem) error {
	if err := tx.writing(); err != nil {
		return err
	}
	b, ok := tx.st.inbox[item.Seq]
	if !ok {
		return fmt.Errorf("storetest: done %d: %w", item.Seq, bot.ErrNotFound)
	}
	var in dialog.Input
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	delete(tx.st.inbox, item.Seq)
	if in.Key != "" {
		delete(tx.st.pending, in.Key)
		tx.st.handled[in.Key] = tx.m.now().Add(tx.m.ttl)
	}
	return nil
}

func (tx *memTx) Fail(item bot.InboxItem, reason string) error {
	if err := tx.Done(item); err != nil {
		return err
	}
	tx.st.failed[item.Seq] = bot.Failed{Seq: item.Seq, Input: item.Input, Error: reason, At: tx.m.now().UTC()}
	return nil
}

func (tx *memTx) FailedInputs(fn func(bot.Failed) error) error {
	for _, seq := range firstKeys(tx.st.failed, 0) {
		if err := fn(tx.st.failed[seq]); err != nil {
			return err
		}
	}
	return nil
}

func (tx *memTx) DeleteFailed(seq uint64) error {
	if err := tx.writing(); err != nil {
		return err
	}
	delete(tx.st.failed, seq)
	return nil
}

func (tx *memTx) ReplaceTimers(caseID string, timers []dialog.Timer) error {
	if err := tx.writing(); err != nil {
		return err
	}
	if caseID == "" || strings.Contains(caseID, "/") {
		return fmt.Errorf("storetest: replace timers: case %q", caseID)
	}
	next := maps.Clone(tx.st.timers)
	maps.DeleteFunc(next, func(_ string, t dialog.Timer) bool { return t.Case == caseID })
	for _, t := range timers {
		if t.Case != caseID {
			return fmt.Errorf("storetest: replace timers %s: timer for case %q", caseID, t.Case)
		}
		key, err := timerKey(t)
		if err != nil {
			return err
		}
		next[key] = t
	}
	tx.st.timers = next
	return nil
}

func (tx *memTx) DeleteTimer(t dialog.Timer) error {
	if err := tx.writing(); err != nil {
		return err
	}
	key, err := timerKey(t)
	if err != nil {
		return err
	}
	delete(tx.st.timers, key)
	return nil
}

// timerKey orders timers by due time, then case, kind and deadline.
func timerKey(t dialog.Timer) (string, error) {
	if t.Case == "" || strings.Contains(t.Case, "/") {
		return "", fmt.Errorf("storetest: timer case %q", t.Case)
	}
	if t.At.Before(time.Unix(0, 0)) {
		return "", fmt.Errorf("storetest: timer %s/%s at %v, before 1970", t.Case, t.Kind, t.At)
	}
	return fmt.Sprintf("%020d/%s/%s/%s", t.At.UnixNano(), t.Case, t.Kind, t.Deadline), nil
}

// firstKeys is the limit smallest keys of m, in order; all when limit <= 0.
func firstKeys[V any](m map[uint64]V, limit int) []uint64 {
	keys := slices.SortedFunc(maps.Keys(m), cmp.Compare[uint64])
	if limit > 0 && len(keys) > limit {
		keys = keys[:limit]
	}
	return keys
}
