package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/dgraph-io/badger/v4"

	"ombud/bot"
	"ombud/dialog"
)

// Tx is one transaction, given to the function passed to Store.Update or
// Store.View. It is valid only until that function returns. In a View the
// write methods fail.
type Tx struct {
	txn *badger.Txn
	s   *Store
}

// Session returns the session stored under key, or an error wrapping
// ErrNotFound.
func (tx *Tx) Session(key string) (dialog.Session, error) {
	var sess dialog.Session
	if err := getJSON(tx.txn, sessionKey(key), &sess); err != nil {
		return dialog.Session{}, fmt.Errorf("store: session %s: %w", key, err)
	}
	return sess, nil
}

// PutSession stores s under key, replacing any earlier session.
func (tx *Tx) PutSession(key string, s dialog.Session) error {
	if key == "" {
		return errors.New("store: put session: empty key")
	}
	if err := putJSON(tx.txn, sessionKey(key), s); err != nil {
		return fmt.Errorf("store: put session %s: %w", key, err)
	}
	return nil
}

// DeleteSession removes the session under key; a missing session is no
// error, so erasing twice is harmless.
func (tx *Tx) DeleteSession(key string) error {
	if err := tx.txn.Delete(sessionKey(key)); err != nil {
		return fmt.Errorf("store: delete session %s: %w", key, err)
	}
	return nil
}

// Complaint returns the complaint with case number id, or an error wrapping
// ErrNotFound.
func (tx *Tx) Complaint(id string) (dialog.Complaint, error) {
	var c dialog.Complaint
	if err := getJSON(tx.txn, complaintKey(id), &c); err != nil {
		return dialog.Complaint{}, fmt.Errorf("store: complaint %s: %w", id, err)
	}
	return c, nil
}

// PutComplaint stores c under c.ID, replacing any earlier version.
func (tx *Tx) PutComplaint(c dialog.Complaint) error {
	if c.ID == "" {
		return errors.New("store: put complaint: empty id")
	}
	if err := putJSON(tx.txn, complaintKey(c.ID), c); err != nil {
		return fmt.Errorf("store: put complaint %s: %w", c.ID, err)
	}
	return nil
}

// NextCaseNumber returns the next case number for prefix and year: 1, 2,
// 3… A number is never handed out twice, even after a restart, and the
// numbers of committed transactions have no gaps.
func (tx *Tx) NextCaseNumber(prefix string, year int) (int, error) {
	if prefix == "" || strings.Contains(prefix, "/") {
		return 0, fmt.Errorf("store: next case number: prefix %q: want a non-empty prefix without '/'", prefix)
	}
	n, err := next(tx.txn, sequenceKey(prefix, year))
	if err != nil {
		return 0, fmt.Errorf("store: next case number %s/%d: %w", prefix, year, err)
	}
	return int(n), nil
}

// AddOutbox queues outs for sending, in order, after everything already
// queued.
func (tx *Tx) AddOutbox(outs ...dialog.Output) error {
	for _, out := range outs {
		seq, err := next(tx.txn, []byte(keyOutboxSeq))
		if err != nil {
			return fmt.Errorf("store: add outbox: %w", err)
		}
		if err := putJSON(tx.txn, seqKey(prefixOutbox, seq), outboxRecord{Output: out, Queued: tx.s.now().UTC()}); err != nil {
			return fmt.Errorf("store: add outbox %d: %w", seq, err)
		}
		if err := tx.txn.Set(queueKey(out.Queue(), seq), nil); err != nil {
			return fmt.Errorf("store: add outbox %d: %w", seq, err)
		}
	}
	return nil
}

// Done removes item from the inbox and remembers its input key, if it has
// one, for the dedupe TTL, so a redelivery of the same update is skipped.
// An item no longer in the inbox is an error wrapping ErrNotFound: the
// read also makes two turns handling the same item conflict, so only one
// of them commits.
func (tx *Tx) Done(item bot.InboxItem) error {
	key := seqKey(prefixInbox, item.Seq)
	// The stored input, not the caller's copy, says which pending marker to
	// clear: a marker left behind would block its key for good.
	var in dialog.Input
	if err := getJSON(tx.txn, key, &in); err != nil {
		return fmt.Errorf("store: done %d: %w", item.Seq, err)
	}
	if err := tx.txn.Delete(key); err != nil {
		return fmt.Errorf("store: done %d: %w", item.Seq, err)
	}
	if in.Key == "" {
		return nil
	}
	if err := tx.txn.Delete(pendingKey(in.Key)); err != nil {
		return fmt.Errorf("store: done %d: %w", item.Seq, err)
	}
	expiry := tx.s.now().Add(tx.s.dedupeTTL)
	e := badger.NewEntry(handledKey(in.Key), u64(uint64(expiry.UnixNano()))).
		WithTTL(tx.s.dedupeTTL + handledGrace)
	if err := tx.txn.SetEntry(e); err != nil {
		return fmt.Errorf("store: done %d: remember key %s: %w", item.Seq, in.Key, err)
	}
	return nil
}

// ReplaceTimers drops every timer of caseID, then indexes timers by their
// due time. Each timer's Case must be caseID. An empty timers clears the
// case's timers.
func (tx *Tx) ReplaceTimers(caseID string, timers []dialog.Timer) error {
	if caseID == "" || strings.Contains(caseID, "/") {
		return fmt.Errorf("store: replace timers: case %q: want a non-empty id without '/'", caseID)
	}
	prefix := caseTimersPrefix(caseID)
	// Collect first: deleting while the iterator is open would make the
	// iteration depend on Badger's handling of pending writes.
	var old [][]byte
	err := scan(tx.txn, prefix, false, func(key, _ []byte) error {
		old = append(old, key)
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: replace timers %s: %w", caseID, err)
	}
	for _, key := range old {
		if err := tx.txn.Delete(key[len(prefix):]); err != nil {
			return fmt.Errorf("store: replace timers %s: %w", caseID, err)
		}
		if err := tx.txn.Delete(key); err != nil {
			return fmt.Errorf("store: replace timers %s: %w", caseID, err)
		}
	}
	for _, t := range timers {
		if t.Case != caseID {
			return fmt.Errorf("store: replace timers %s: timer %s/%s is for case %q", caseID, t.Kind, t.Deadline, t.Case)
		}
		if err := tx.putTimer(t); err != nil {
			return fmt.Errorf("store: replace timers %s: %w", caseID, err)
		}
	}
	return nil
}

// DeleteTimer removes t from the deadline index, as when it has fired. A
// timer that is not there is no error: the same turn may have replaced it.
func (tx *Tx) DeleteTimer(t dialog.Timer) error {
	key, err := timerKey(t)
	if err != nil {
		return fmt.Errorf("store: delete timer: %w", err)
	}
	if err := tx.txn.Delete(key); err != nil {
		return fmt.Errorf("store: delete timer %s: %w", key, err)
	}
	if err := tx.txn.Delete(append(caseTimersPrefix(t.Case), key...)); err != nil {
		return fmt.Errorf("store: delete timer %s: %w", key, err)
	}
	return nil
}

func (tx *Tx) putTimer(t dialog.Timer) error {
	key, err := timerKey(t)
	if err != nil {
		return err
	}
	if err := putJSON(tx.txn, key, t); err != nil {
		return err
	}
	return tx.txn.Set(append(caseTimersPrefix(t.Case), key...), nil)
}

// DropOutbox removes an outbox entry inside a turn, as when a platform
// refused it for good and the warning that replaces it must be queued in the
// same transaction. An entry no longer there is an error wrapping
// ErrNotFound.
func (tx *Tx) DropOutbox(seq uint64) error {
	if err := removeOutbox(tx.txn, seq); err != nil {
		return fmt.Errorf("store: drop outbox %d: %w", seq, err)
	}
	return nil
}

// Fail takes an item out of the inbox like Done, and keeps it with the
// reason its turn failed, in the same transaction.
func (tx *Tx) Fail(item bot.InboxItem, reason string) error {
	if err := tx.Done(item); err != nil {
		return err
	}
	rec := bot.Failed{Seq: item.Seq, Input: item.Input, Error: reason, At: tx.s.now().UTC()}
	if err := putJSON(tx.txn, seqKey(prefixFailed, item.Seq), rec); err != nil {
		return fmt.Errorf("store: keep failed input %d: %w", item.Seq, err)
	}
	return nil
}

// Complaints calls fn for every complaint, in case-number order.
func (tx *Tx) Complaints(fn func(dialog.Complaint) error) error {
	return scan(tx.txn, []byte(prefixComplaint), true, func(_, value []byte) error {
		var c dialog.Complaint
		if err := json.Unmarshal(value, &c); err != nil {
			return fmt.Errorf("store: complaint: %w", err)
		}
		return fn(c)
	})
}

// FailedInputs calls fn for every input whose turn failed.
func (tx *Tx) FailedInputs(fn func(bot.Failed) error) error {
	return scan(tx.txn, []byte(prefixFailed), true, func(_, value []byte) error {
		var f bot.Failed
		if err := json.Unmarshal(value, &f); err != nil {
			return fmt.Errorf("store: failed input: %w", err)
		}
		return fn(f)
	})
}

// DeleteFailed forgets a failed input, as when its consumer's data is
// erased.
func (tx *Tx) DeleteFailed(seq uint64) error {
	if err := tx.txn.Delete(seqKey(prefixFailed, seq)); err != nil {
		return fmt.Errorf("store: delete failed input %d: %w", seq, err)
	}
	return nil
}
