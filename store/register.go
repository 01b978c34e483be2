package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/dgraph-io/badger/v4"

	"ombud/bot"
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
func (s *Store) FailedInputs(fn func(bot.Failed) error) error {
	return s.view(func(txn *badger.Txn) error {
		return scan(txn, []byte(prefixFailed), true, func(_, value []byte) error {
			var f bot.Failed
			if err := json.Unmarshal(value, &f); err != nil {
				return fmt.Errorf("store: failed input: %w", err)
			}
			return fn(f)
		})
	})
}

// PutRef records one cross-reference.
func (s *Store) PutRef(kind, key, value string) error {
	return s.PutRefs(bot.Ref{Kind: kind, Key: key, Value: value})
}

// PutRefs records cross-references in one transaction, so references that
// only make sense together, such as a thread and its case both ways, are
// never stored half.
func (s *Store) PutRefs(refs ...bot.Ref) error {
	return s.update(func(txn *badger.Txn) error {
		for _, r := range refs {
			if err := txn.Set([]byte(prefixRef+r.Kind+"/"+r.Key), []byte(r.Value)); err != nil {
				return fmt.Errorf("store: put ref %s/%s: %w", r.Kind, r.Key, err)
			}
		}
		return nil
	})
}

// Ref reads a cross-reference; ok is false when there is none.
func (s *Store) Ref(kind, key string) (value string, ok bool, err error) {
	err = s.view(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(prefixRef + kind + "/" + key))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		b, err := item.ValueCopy(nil)
		value, ok = string(b), true
		return err
	})
	if err != nil {
		return "", false, fmt.Errorf("store: ref %s/%s: %w", kind, key, err)
	}
	return value, ok, nil
}

// Purge makes deleted and overwritten data unrecoverable from the files on
// disk. Badger keeps old versions in its write-ahead log and tables until
// compaction drops them; Purge flushes the memtables (DropPrefix on a key
// range of its own does that), compacts every level into one, which drops
// versions no reader can see, and rewrites value logs. An erasure
// calls it after deleting a consumer's data.
func (s *Store) Purge() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.space.check(s); err != nil {
		return fmt.Errorf("store: purge: %w", err)
	}
	// DropPrefix skips the flush when no key has the prefix, so write one.
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set([]byte("~purge/marker"), nil) }); err != nil {
		return fmt.Errorf("store: purge: %w", err)
	}
	if err := s.db.DropPrefix([]byte("~purge/")); err != nil {
		return fmt.Errorf("store: purge: flush: %w", err)
	}
	if err := s.db.Flatten(2); err != nil {
		return fmt.Errorf("store: purge: compact: %w", err)
	}
	for s.db.RunValueLogGC(0.01) == nil {
	}
	return nil
}

// Backup writes a consistent copy of the whole store to w while it stays
// in use. Restore reads it back.
func (s *Store) Backup(w io.Writer) error {
	if _, err := s.db.Backup(w, 0); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	return nil
}

// Restore loads a backup into the store, which should be new and empty.
// Check the file with CheckBackup first: a file that is not a backup can
// leave part of itself behind.
func (s *Store) Restore(r io.Reader) (err error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	defer func() {
		// Badger trusts the block lengths it reads, and panics on absurd
		// ones; a damaged file is an error, not a crash.
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", ErrNotBackup, p)
		}
	}()
	if err := s.space.check(s); err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	if err := s.db.Load(r, 16); err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	return nil
}

// maxBackupBlock bounds one block of a backup; Badger writes blocks of a
// few megabytes at most.
const maxBackupBlock = 1 << 30

// CheckBackup reports whether r is shaped as a backup: blocks, each a
// little-endian length and that many bytes, that end exactly where the
// file ends, and at least one of them. It seeks over the blocks without
// reading them, so a large backup costs next to nothing to check, and any
// other file (a text file, an image, a cut-off copy) is refused before
// anything is written.
func CheckBackup(r io.ReadSeeker) error {
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("store: check backup: %w", err)
	}
	if size == 0 {
		return fmt.Errorf("%w: the file is empty", ErrNotBackup)
	}
	var at int64
	for at < size {
		if _, err := r.Seek(at, io.SeekStart); err != nil {
			return fmt.Errorf("store: check backup: %w", err)
		}
		var n uint64
		if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
			return fmt.Errorf("%w: it ends inside a block header at byte %d", ErrNotBackup, at)
		}
		at += 8
		if n > maxBackupBlock || n > uint64(size-at) {
			return fmt.Errorf("%w: a block at byte %d claims %d bytes, more than the file holds", ErrNotBackup, at-8, n)
		}
		at += int64(n)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("store: check backup: %w", err)
	}
	return nil
}
