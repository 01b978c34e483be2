package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"ombud/dialog"
)

// NextTimer returns the earliest timer in the deadline index, so the
// scheduler knows when to wake; ok is false if there is none.
func (s *Store) NextTimer() (t dialog.Timer, ok bool, err error) {
	timers, err := s.timers(time.Time{}, 1)
	if err != nil {
		return dialog.Timer{}, false, fmt.Errorf("store: next timer: %w", err)
	}
	if len(timers) == 0 {
		return dialog.Timer{}, false, nil
	}
	return timers[0], true, nil
}

// DueTimers returns up to limit timers due at or before now, earliest
// first; limit <= 0 returns them all. It reads only the due part of the
// index.
func (s *Store) DueTimers(now time.Time, limit int) ([]dialog.Timer, error) {
	if now.Before(time.Unix(0, 0)) {
		return nil, nil // no timer is stored before 1970
	}
	timers, err := s.timers(now, limit)
	if err != nil {
		return nil, fmt.Errorf("store: due timers: %w", err)
	}
	return timers, nil
}

// timers walks the index from the earliest timer and stops after limit
// timers or at the first one due after until; a zero until means no bound.
func (s *Store) timers(until time.Time, limit int) ([]dialog.Timer, error) {
	var timers []dialog.Timer
	err := s.view(func(txn *badger.Txn) error {
		return scan(txn, []byte(prefixTimer), true, func(key, value []byte) error {
			at, err := timerAt(key)
			if err != nil {
				return err
			}
			if !until.IsZero() && at > until.UnixNano() {
				return errStop
			}
			var t dialog.Timer
			if err := json.Unmarshal(value, &t); err != nil {
				return fmt.Errorf("timer %q: %w", key, err)
			}
			timers = append(timers, t)
			if limit > 0 && len(timers) == limit {
				return errStop
			}
			return nil
		})
	})
	return timers, err
}
