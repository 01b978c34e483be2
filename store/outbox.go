package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"ombud/bot"
	"ombud/dialog"
)

// outboxRecord is the stored form of a bot.OutboxItem; the Seq is the key.
type outboxRecord struct {
	Output    dialog.Output `json:"output"`
	Queued    time.Time     `json:"queued,omitzero"`
	Attempts  int           `json:"attempts,omitempty"`
	NotBefore time.Time     `json:"not_before,omitzero"`
	LastError string        `json:"last_error,omitempty"`
}

func (r outboxRecord) item(seq uint64) bot.OutboxItem {
	return bot.OutboxItem{Seq: seq, Output: r.Output, Queued: r.Queued, Attempts: r.Attempts, NotBefore: r.NotBefore, LastError: r.LastError}
}

// Outbox returns up to limit queued messages in queue order, including
// those whose NotBefore is still ahead: pacing is the relay's concern.
// limit <= 0 returns them all.
func (s *Store) Outbox(limit int) ([]bot.OutboxItem, error) {
	items, err := readQueue(s, prefixOutbox, &s.outboxFloor, limit, func(seq uint64, value []byte) (bot.OutboxItem, error) {
		var r outboxRecord
		err := json.Unmarshal(value, &r)
		return r.item(seq), err
	})
	if err != nil {
		return nil, fmt.Errorf("store: outbox: %w", err)
	}
	return items, nil
}

// MarkSent removes a sent message from the outbox. A message no longer
// there is an error wrapping ErrNotFound.
func (s *Store) MarkSent(seq uint64) error {
	err := s.update(func(txn *badger.Txn) error { return removeOutbox(txn, seq) })
	if err != nil {
		return fmt.Errorf("store: mark sent %d: %w", seq, err)
	}
	return nil
}

// removeOutbox deletes an outbox entry and its queue index.
func removeOutbox(txn *badger.Txn, seq uint64) error {
	key := seqKey(prefixOutbox, seq)
	var r outboxRecord
	if err := getJSON(txn, key, &r); err != nil {
		return err
	}
	if err := txn.Delete(queueKey(r.Output.Queue(), seq)); err != nil {
		return err
	}
	return txn.Delete(key)
}

// OutboxHeads returns the oldest entry of every queue (dialog.Output.Queue),
// reading one index key per queue rather than the whole outbox: what a
// relay sending to many destinations at once needs.
func (s *Store) OutboxHeads() ([]bot.OutboxItem, error) {
	var seqs []uint64
	err := s.view(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		// One key per queue is read, then a seek: prefetching more is waste.
		opts.Prefix, opts.PrefetchValues, opts.PrefetchSize = []byte(prefixQueue), false, 1
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Seek([]byte(prefixQueue)); it.ValidForPrefix([]byte(prefixQueue)); {
			key := it.Item().KeyCopy(nil)
			if len(key) < len(prefixQueue)+9 {
				return fmt.Errorf("malformed queue key %q", key)
			}
			seqs = append(seqs, binary.BigEndian.Uint64(key[len(key)-8:]))
			// Skip the rest of this queue: its name ends in \x00, so the
			// next queue starts after name + \x01.
			next := append(append([]byte(nil), key[:len(key)-9]...), 0x01)
			it.Seek(next)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: outbox heads: %w", err)
	}
	items := make([]bot.OutboxItem, 0, len(seqs))
	err = s.view(func(txn *badger.Txn) error {
		for _, seq := range seqs {
			var r outboxRecord
			if err := getJSON(txn, seqKey(prefixOutbox, seq), &r); errors.Is(err, ErrNotFound) {
				continue // sent since the index was read
			} else if err != nil {
				return err
			}
			items = append(items, r.item(seq))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: outbox heads: %w", err)
	}
	return items, nil
}

// Retry records a failed send: one more attempt, the time before which not
// to try again and why it failed. The message keeps its place in the
// queue. A message no longer there is an error wrapping ErrNotFound.
func (s *Store) Retry(seq uint64, notBefore time.Time, lastErr string) error {
	return s.postpone(seq, notBefore, lastErr, true)
}

// Postpone keeps an entry back until notBefore without counting a failed
// attempt: the platform asked to wait (a 429), and waiting is not failing.
func (s *Store) Postpone(seq uint64, notBefore time.Time, reason string) error {
	return s.postpone(seq, notBefore, reason, false)
}

func (s *Store) postpone(seq uint64, notBefore time.Time, lastErr string, failed bool) error {
	err := s.update(func(txn *badger.Txn) error {
		key := seqKey(prefixOutbox, seq)
		var r outboxRecord
		if err := getJSON(txn, key, &r); err != nil {
			return err
		}
		if failed {
			r.Attempts++
		}
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

// QueueHead returns the oldest entry of one queue; ok is false when the
// queue is empty.
func (s *Store) QueueHead(queue string) (item bot.OutboxItem, ok bool, err error) {
	prefix := []byte(prefixQueue + queue + "\x00")
	err = s.view(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix, opts.PrefetchValues, opts.PrefetchSize = prefix, false, 1
		it := txn.NewIterator(opts)
		defer it.Close()
		it.Seek(prefix)
		if !it.ValidForPrefix(prefix) {
			return nil
		}
		key := it.Item().Key()
		seq := binary.BigEndian.Uint64(key[len(key)-8:])
		var r outboxRecord
		if err := getJSON(txn, seqKey(prefixOutbox, seq), &r); err != nil {
			return err
		}
		item = r.item(seq)
		ok = true
		return nil
	})
	if err != nil {
		return bot.OutboxItem{}, false, fmt.Errorf("store: queue head %s: %w", queue, err)
	}
	return item, ok, nil
}
