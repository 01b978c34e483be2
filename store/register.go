package store

import (
	"encoding/json"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"ombud/dialog"
)

// Complaints calls fn for every complaint in case-number order, for the
// register and its exports. It reads one snapshot; an error from fn stops
// the walk and is returned as is.
func (s *Store) Complaints(fn func(dialog.Complaint) error) error {
	return s.view(func(txn *badger.Txn) error {
		return scan(txn, []byte(prefixComplaint), true, func(key, value []byte) error {
			var c dialog.Complaint
			if err := json.Unmarshal(value, &c); err != nil {
				return fmt.Errorf("store: complaint %s: %w", key[len(prefixComplaint):], err)
			}
			return fn(c)
		})
	})
}

// Sessions calls fn for every session in key order, for exports and
// erasure. It reads one snapshot; an error from fn stops the walk and is
// returned as is.
func (s *Store) Sessions(fn func(key string, s dialog.Session) error) error {
	return s.view(func(txn *badger.Txn) error {
		return scan(txn, []byte(prefixSession), true, func(key, value []byte) error {
			k := string(key[len(prefixSession):])
			var sess dialog.Session
			if err := json.Unmarshal(value, &sess); err != nil {
				return fmt.Errorf("store: session %s: %w", k, err)
			}
			return fn(k, sess)
		})
	})
}

// FailedInputs calls fn for every input whose turn failed, oldest first.
func (s *Store) FailedInputs(fn func(Failed) error) error {
	return s.view(func(txn *badger.Txn) error {
		return scan(txn, []byte(prefixFailed), true, func(_, value []byte) error {
			var f Failed
			if err := json.Unmarshal(value, &f); err != nil {
				return fmt.Errorf("store: failed input: %w", err)
			}
			return fn(f)
		})
	})
}
