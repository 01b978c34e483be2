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

// Enqueue writes inputs to the inbox, and cursor if it is not nil, in one
// durable transaction: once it returns, the platform may be told the
// inputs arrived. An input whose Key is already in the inbox, or was
// handled within the dedupe TTL, is skipped; inputs without a Key are
// always added. It returns how many inputs were added.
func (s *Store) Enqueue(cursor *bot.Cursor, inputs ...dialog.Input) (added int, err error) {
	if cursor != nil && cursor.Name == "" {
		return 0, errors.New("store: enqueue: cursor without a name")
	}
	if cursor == nil && len(inputs) == 0 {
		return 0, nil
	}
	err = s.update(func(txn *badger.Txn) error {
		added = 0 // the function runs again after a conflict
		now := s.now()
		for _, in := range inputs {
			if in.Key != "" {
				dup, err := isDuplicate(txn, in.Key, now)
				if err != nil {
					return err
				}
				if dup {
					s.log.Debug("store: duplicate input skipped", "key", in.Key)
					continue
				}
			}
			seq, err := next(txn, []byte(keyInboxSeq))
			if err != nil {
				return err
			}
			if err := putJSON(txn, seqKey(prefixInbox, seq), in); err != nil {
				return fmt.Errorf("input %d: %w", seq, err)
			}
			if in.Key != "" {
				if err := txn.Set(pendingKey(in.Key), u64(seq)); err != nil {
					return fmt.Errorf("input %d: %w", seq, err)
				}
			}
			added++
		}
		if cursor != nil {
			// The value, then when it was stored: a platform may make an
			// old position meaningless (Telegram after a week of silence).
			v := append(u64(uint64(cursor.Value)), u64(uint64(s.now().UnixNano()))...)
			if err := txn.Set(cursorKey(cursor.Name), v); err != nil {
				return fmt.Errorf("cursor %s: %w", cursor.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: enqueue: %w", err)
	}
	return added, nil
}

// isDuplicate reports whether an input with key is in the inbox or was
// handled and its memory has not expired at now. Both reads join the
// transaction's read set, so an Enqueue racing with the Done of the same
// key conflicts and looks again.
func isDuplicate(txn *badger.Txn, key string, now time.Time) (bool, error) {
	_, err := txn.Get(pendingKey(key))
	switch {
	case err == nil:
		return true, nil
	case !errors.Is(err, badger.ErrKeyNotFound):
		return false, fmt.Errorf("input %s: %w", key, err)
	}
	expiry, err := getUint64(txn, handledKey(key))
	if err != nil {
		return false, fmt.Errorf("input %s: %w", key, err)
	}
	// A missing record reads as 0, the distant past.
	return now.UnixNano() < int64(expiry), nil
}

// Cursor returns the value last stored for the cursor name and when it
// was stored (zero for a cursor stored before that was kept); ok is false
// if none was.
func (s *Store) Cursor(name string) (value int64, at time.Time, ok bool, err error) {
	err = s.view(func(txn *badger.Txn) error {
		item, err := txn.Get(cursorKey(name))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			switch len(v) {
			case 16:
				at = time.Unix(0, int64(binary.BigEndian.Uint64(v[8:])))
			case 8:
			default:
				return fmt.Errorf("value is %d bytes, want 8 or 16", len(v))
			}
			value, ok = int64(binary.BigEndian.Uint64(v[:8])), true
			return nil
		})
	})
	if err != nil {
		return 0, time.Time{}, false, fmt.Errorf("store: cursor %s: %w", name, err)
	}
	return value, at, ok, nil
}

// Pending returns up to limit inbox items in arrival order; limit <= 0
// returns them all.
func (s *Store) Pending(limit int) ([]bot.InboxItem, error) {
	items, err := readQueue(s, prefixInbox, &s.inboxFloor, limit, func(seq uint64, value []byte) (bot.InboxItem, error) {
		item := bot.InboxItem{Seq: seq}
		return item, json.Unmarshal(value, &item.Input)
	})
	if err != nil {
		return nil, fmt.Errorf("store: pending: %w", err)
	}
	return items, nil
}

// readQueue reads up to limit entries of a sequence-numbered queue (the
// inbox or the outbox) from its floor, in order, and raises the floor to
// the first entry found.
func readQueue[T any](s *Store, prefix string, floor *uint64, limit int, decode func(seq uint64, value []byte) (T, error)) ([]T, error) {
	var items []T
	var first uint64
	start := seqKey(prefix, s.floor(floor))
	err := s.view(func(txn *badger.Txn) error {
		return scanFrom(txn, []byte(prefix), start, true, func(key, value []byte) error {
			seq, err := seqOf(prefix, key)
			if err != nil {
				return err
			}
			item, err := decode(seq, value)
			if err != nil {
				return fmt.Errorf("entry %d: %w", seq, err)
			}
			if len(items) == 0 {
				first = seq
			}
			items = append(items, item)
			if limit > 0 && len(items) == limit {
				return errStop
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	if len(items) > 0 {
		s.raiseFloor(floor, first)
	}
	return items, nil
}
