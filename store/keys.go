package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"ombud/dialog"
)

// Key layout. Each kind of record has a short ASCII prefix, so a kind is
// listed with one prefix scan and a key dump stays readable. Numbers that
// must sort (sequence numbers, times) are big-endian, so byte order is
// numeric order.
const (
	prefixSession   = "s/"  // s/<session key> -> dialog.Session JSON
	prefixComplaint = "c/"  // c/<case id> -> dialog.Complaint JSON
	prefixSequence  = "q/"  // q/<prefix>/<year> -> last case number handed out
	prefixInbox     = "i/"  // i/<seq> -> dialog.Input JSON
	prefixPending   = "ik/" // ik/<input key> -> seq: the input is in the inbox
	prefixHandled   = "d/"  // d/<input key> -> expiry (unix nanos): the input was handled
	prefixOutbox    = "o/"  // o/<seq> -> outboxRecord JSON
	prefixQueue     = "oq/" // oq/<queue>\x00<seq> -> empty: the outbox by queue, so each queue's head is found without reading the rest
	prefixTimer     = "t/"  // t/<at unix nanos>/<case>/<kind>/<deadline> -> dialog.Timer JSON
	prefixCaseTimer = "tc/" // tc/<case>/<t/ key> -> empty: a case's timers, found without a scan
	prefixCursor    = "k/"  // k/<name> -> int64
	prefixFailed    = "f/"  // f/<seq> -> bot.Failed JSON: an input whose turn failed
	prefixRef       = "r/"  // r/<kind>/<key> -> value: an adapter's cross-reference, such as a case's Slack thread

	// Counters for the inbox and outbox sequence numbers. They are plain
	// keys read and written inside the transaction that uses the number,
	// not badger.Sequence: a Sequence leases a range of numbers and loses
	// the unused rest when the process stops, and a crash would leave gaps
	// and, worse, let a later transaction take a lower number than an
	// earlier one. Because every user of a counter reads it, two
	// transactions taking a number conflict and one of them runs again, so
	// numbers follow commit order.
	keyInboxSeq  = "n/inbox"
	keyOutboxSeq = "n/outbox"
)

func sessionKey(key string) []byte  { return []byte(prefixSession + key) }
func complaintKey(id string) []byte { return []byte(prefixComplaint + id) }
func pendingKey(key string) []byte  { return []byte(prefixPending + key) }
func handledKey(key string) []byte  { return []byte(prefixHandled + key) }
func cursorKey(name string) []byte  { return []byte(prefixCursor + name) }

func sequenceKey(prefix string, year int) []byte {
	return fmt.Appendf(nil, "%s%s/%d", prefixSequence, prefix, year)
}

// seqKey is prefix followed by seq as 8 big-endian bytes.
func seqKey(prefix string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(prefix), seq)
}

// seqOf reads the sequence number back from a key made by seqKey.
func seqOf(prefix string, key []byte) (uint64, error) {
	if len(key) != len(prefix)+8 {
		return 0, fmt.Errorf("malformed key %q", key)
	}
	return binary.BigEndian.Uint64(key[len(prefix):]), nil
}

// timerKey orders timers by due time. Case, kind and deadline follow so
// that two timers due at the same instant get distinct keys.
func timerKey(t dialog.Timer) ([]byte, error) {
	if t.Case == "" || strings.Contains(t.Case, "/") {
		// The case id ends the tc/<case>/ prefix, so a slash in it would
		// let one case's prefix match another case's timers.
		return nil, fmt.Errorf("timer case %q: want a non-empty id without '/'", t.Case)
	}
	if t.At.Before(time.Unix(0, 0)) {
		// Unix nanos before 1970 are negative and would sort after every
		// real timer once stored as unsigned big-endian bytes.
		return nil, fmt.Errorf("timer %s/%s/%s: time %v is before 1970", t.Case, t.Kind, t.Deadline, t.At)
	}
	k := binary.BigEndian.AppendUint64([]byte(prefixTimer), uint64(t.At.UnixNano()))
	return fmt.Appendf(k, "/%s/%s/%s", t.Case, t.Kind, t.Deadline), nil
}

// timerAt reads the due time back from a key made by timerKey.
func timerAt(key []byte) (int64, error) {
	if len(key) < len(prefixTimer)+8 {
		return 0, fmt.Errorf("malformed timer key %q", key)
	}
	return int64(binary.BigEndian.Uint64(key[len(prefixTimer):])), nil
}

func caseTimersPrefix(caseID string) []byte { return []byte(prefixCaseTimer + caseID + "/") }

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// getUint64 reads a number stored with u64; a missing key reads as 0.
func getUint64(txn *badger.Txn, key []byte) (uint64, error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var n uint64
	err = item.Value(func(v []byte) error {
		if len(v) != 8 {
			return fmt.Errorf("key %q: value is %d bytes, want 8", key, len(v))
		}
		n = binary.BigEndian.Uint64(v)
		return nil
	})
	return n, err
}

// next increments the counter at key and returns the new value, starting at
// 1. The read puts the counter in the transaction's read set, which is what
// makes concurrent users conflict instead of taking the same number.
func next(txn *badger.Txn, key []byte) (uint64, error) {
	n, err := getUint64(txn, key)
	if err != nil {
		return 0, err
	}
	n++
	return n, txn.Set(key, u64(n))
}

// floor reads a queue floor (see Store.inboxFloor).
func (s *Store) floor(f *uint64) uint64 {
	s.floorMu.Lock()
	defer s.floorMu.Unlock()
	return *f
}

// raiseFloor moves a queue floor up to seq, never down.
func (s *Store) raiseFloor(f *uint64, seq uint64) {
	s.floorMu.Lock()
	defer s.floorMu.Unlock()
	if seq > *f {
		*f = seq
	}
}

// queueKey indexes an outbox entry under its queue (dialog.Output.Queue).
func queueKey(queue string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(prefixQueue+queue+"\x00"), seq)
}
