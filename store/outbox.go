package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"ombud/dialog"
)

// OutboxItem is a message waiting to be sent.
type OutboxItem struct {
	Seq       uint64 // queue order
	Output    dialog.Output
	Attempts  int       // failed sends so far
	NotBefore time.Time // do not send before this; zero: at once
	LastError string    // why the last attempt failed
	Queued    time.Time // when it was queued
}

// outboxRecord is the stored form of an OutboxItem; the Seq is the key.
type outboxRecord struct {
	Output    dialog.Output `json:"output"`
	Queued    time.Time     `json:"queued,omitzero"`
	Attempts  int           `json:"attempts,omitempty"`
	NotBefore time.Time     `json:"not_before,omitzero"`
	LastError string        `json:"last_error,omitempty"`
}

// Outbox returns up to limit queued messages in queue order, including
// those whose NotBefore is still ahead: pacing is the relay's concern.
// limit <= 0 returns them all.
func (s *Store) Outbox(limit int) ([]OutboxItem, error) {
	var items []OutboxItem
	floor := s.floor(&s.outboxFloor)
	err := s.view(func(txn *badger.Txn) error {
		return scanFrom(txn, []byte(prefixOutbox), seqKey(prefixOutbox, floor), true, func(key, value []byte) error {
			seq, err := seqOf(prefixOutbox, key)
			if err != nil {
				return err
			}
			var r outboxRecord
			if err := json.Unmarshal(value, &r); err != nil {
				return fmt.Errorf("output %d: %w", seq, err)
			}
			items = append(items, OutboxItem{
				Seq:       seq,
				Output:    r.Output,
				Queued:    r.Queued,
				Attempts:  r.Attempts,
				NotBefore: r.NotBefore,
				LastError: r.LastError,
			})
			if limit > 0 && len(items) == limit {
				return errStop
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: outbox: %w", err)
	}
	if len(items) > 0 {
		s.raiseFloor(&s.outboxFloor, items[0].Seq)
	}
	return items, nil
}

// MarkSent removes a sent message from the outbox. A message no longer
// there is an error wrapping ErrNotFound.
func (s *Store) MarkSent(seq uint64) error {
	err := s.update(func(txn *badger.Txn) error {
		key := seqKey(prefixOutbox, seq)
		var r outboxRecord
		if err := getJSON(txn, key, &r); err != nil {
			return err
		}
		return txn.Delete(key)
	})
	if err != nil {
		return fmt.Errorf("store: mark sent %d: %w", seq, err)
	}
	return nil
}

// Retry records a failed send: one more attempt, the time before which not
// to try again and why it failed. The message keeps its place in the
// queue. A message no longer there is an error wrapping ErrNotFound.
func (s *Store) Retry(seq uint64, notBefore time.Time, lastErr string) error {
	err := s.update(func(txn *badger.Txn) error {
		key := seqKey(prefixOutbox, seq)
		var r outboxRecord
		if err := getJSON(txn, key, &r); err != nil {
			return err
		}
		r.Attempts++
		r.NotBefore = notBefore
		r.LastError = lastErr
		return putJSON(txn, key, r)
	})
	if err != nil {
		return fmt.Errorf("store: retry %d: %w", seq, err)
	}
	return nil
}

// OutboxLen returns the number of queued messages, for metrics and
// readiness checks.
func (s *Store) OutboxLen() (int, error) {
	n := 0
	err := s.view(func(txn *badger.Txn) error {
		return scan(txn, []byte(prefixOutbox), false, func(_, _ []byte) error {
			n++
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("store: outbox length: %w", err)
	}
	return n, nil
}
