package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"

	"ombud/bot"
)

// Sentinel errors; test for them with errors.Is.
var (
	ErrNotFound = bot.ErrNotFound
	ErrLocked   = errors.New("store: data directory is in use by another process")
	// ErrWrongKey: the encryption key given to Open is not the one the
	// data was written with, or one was given for unencrypted data or
	// none for encrypted data.
	ErrWrongKey = errors.New("store: encryption key does not match the data directory")
	// ErrNotBackup: a file given to restore is not a backup Ombud wrote.
	ErrNotBackup = errors.New("store: not an Ombud backup")
)

const (
	defaultDedupeTTL = 7 * 24 * time.Hour
	// handledGrace is added to the dedupe TTL for Badger's own expiry of a
	// handled-key record. The expiry that counts is the one stored in the
	// value and compared with Options.Now; Badger's TTL only collects the
	// garbage, so it must never fire first.
	handledGrace = 24 * time.Hour
	// maxRetries bounds how often a transaction is run again after a
	// conflict, so a writer that keeps losing fails instead of spinning.
	maxRetries = 10
)

// Options configures Open. The zero value is a plain, unencrypted store.
type Options struct {
	// EncryptionKey, if set (16, 24 or 32 bytes), encrypts everything at
	// rest with AES. A directory written with a key opens only with the
	// same key.
	EncryptionKey []byte
	// Logger receives Badger's warnings and errors; nil discards them.
	Logger *slog.Logger
	// Now is the clock for dedupe expiry; nil means time.Now.
	Now func() time.Time
	// DedupeTTL is how long a handled input key is remembered; 0 means 7
	// days. Platforms redeliver within minutes or hours, so a week is
	// generous.
	DedupeTTL time.Duration
	// Reserve is the free space, in bytes, below which the store refuses
	// writes with ErrDiskFull; 0 means DefaultReserve.
	Reserve int64
}

// Store is an open data directory. Its methods are safe for concurrent use.
type Store struct {
	db *badger.DB
	// writeMu lets one read-write transaction run at a time. Every turn
	// reads the outbox counter and many take a case number, so concurrent
	// turns conflict anyway; left to Badger's optimistic retries, 8 busy
	// writers starved each other (7 of 8 gave up after 11 conflicts within
	// 30 ms). Queueing on a mutex costs Badger's group commit, at most 2x
	// with synced writes, which is still far above a chat bot's rate.
	writeMu sync.Mutex
	// queueFloors are the lowest inbox and outbox sequence numbers that
	// may still be queued. Handled entries leave tombstones that an
	// iterator must step over until compaction drops them; starting the
	// scan at the floor keeps reading a queue proportional to its length,
	// not to everything ever queued (it tripled the cost of a turn after a
	// few thousand turns). Numbers only grow, so everything below the
	// first entry a scan finds is gone for good.
	floorMu     sync.Mutex
	inboxFloor  uint64
	outboxFloor uint64
	dir         string
	log         *slog.Logger
	now         func() time.Time
	dedupeTTL   time.Duration
	space       *space
}

// Open opens or creates the store in dir. Only one Store may have a
// directory open at a time, in this process or any other; a second Open
// fails with an error wrapping ErrLocked. A key that does not match the
// data fails with an error wrapping ErrWrongKey.
func Open(dir string, opts Options) (*Store, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	ttl := opts.DedupeTTL
	switch {
	case ttl == 0:
		ttl = defaultDedupeTTL
	case ttl < 0:
		return nil, fmt.Errorf("store: open %s: negative dedupe TTL %v", dir, ttl)
	}
	reserve := opts.Reserve
	if reserve <= 0 {
		reserve = DefaultReserve
	}
	switch n := len(opts.EncryptionKey); n {
	case 0, 16, 24, 32:
	default:
		return nil, fmt.Errorf("store: open %s: encryption key is %d bytes, want 16, 24 or 32 (AES-128, -192 or -256)", dir, n)
	}

	// Badger's defaults are sized for a database server (hundreds of MB of
	// memtables and caches, a 1 GB value log); these keep a chat bot's
	// store small. SyncWrites: a commit has reached the disk when it
	// returns, which the inbox and outbox promises depend on. The block
	// and index caches must be set with encryption, or Badger panics.
	bopts := badger.DefaultOptions(dir).
		WithSyncWrites(true).
		WithMemTableSize(8 << 20).
		WithNumMemtables(2).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(4).
		WithValueLogFileSize(16 << 20).
		WithBlockCacheSize(8 << 20).
		WithIndexCacheSize(4 << 20).
		WithNumCompactors(2).
		WithEncryptionKey(opts.EncryptionKey).
		WithLogger(badgerLogger{log: log.With("component", "badger")})

	// Opening writes (a lock file, the manifest, a new memtable log), and
	// Badger faults on a full disk instead of failing: look first.
	if free, err := FreeSpace(dir); err == nil && free < reserve {
		return nil, fmt.Errorf("%w: %s has %d bytes free, %d needed", ErrDiskFull, dir, free, reserve)
	}
	db, err := badger.Open(bopts)
	if err != nil {
		return nil, openError(dir, err)
	}
	sp := &space{dir: dir, reserve: reserve, allocated: map[string]bool{}}
	st := &Store{db: db, dir: dir, log: log, now: now, dedupeTTL: ttl, space: sp}
	sp.look(st)
	return st, nil
}

// openError turns Badger's open failures that an operator can fix into
// sentences that say what to do.
func openError(dir string, err error) error {
	switch {
	case errors.Is(err, badger.ErrEncryptionKeyMismatch):
		return fmt.Errorf("%w %s: the key is wrong or missing, or a key was given for unencrypted data", ErrWrongKey, dir)
	case strings.Contains(err.Error(), "Cannot acquire directory lock"):
		// Badger flattens the flock error into text (y.Wrapf formats it
		// with %+v), so errors.Is cannot see it; its message is the only
		// signal left.
		return fmt.Errorf("%w: %s (stop the other ombud using it, or choose another directory)", ErrLocked, dir)
	}
	return fmt.Errorf("store: open %s: %w", dir, err)
}

// Close flushes and closes the store. The directory can then be opened
// again.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close %s: %w", s.dir, err)
	}
	return nil
}

// Update runs fn in a read-write transaction and commits it. If the commit
// conflicts with a concurrent transaction, fn runs again on fresh data, up
// to 10 times, so fn must be safe to repeat (no side effects outside tx).
// An error from fn aborts the transaction with nothing written and is
// returned as is.
//
// Read-write transactions run one at a time, so fn should be quick, and it
// must not call the store's writing methods (Update, Enqueue, MarkSent,
// Retry): they would wait for fn forever.
func (s *Store) Update(fn func(tx bot.Tx) error) error {
	return s.update(func(txn *badger.Txn) error {
		return fn(&Tx{txn: txn, s: s})
	})
}

// View runs fn in a read-only transaction: a consistent snapshot. The
// write methods of tx fail.
func (s *Store) View(fn func(tx bot.Tx) error) error {
	return s.view(func(txn *badger.Txn) error {
		return fn(&Tx{txn: txn, s: s})
	})
}

// update is Update for the store's own methods: it runs fn and commits,
// running fn again after a conflict. While writeMu serializes this
// process's writers, and Badger's directory lock keeps other processes
// out, no conflict can occur; the retry keeps the store correct if the
// lock is ever relaxed.
func (s *Store) update(fn func(txn *badger.Txn) error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.db.IsClosed() {
		return errors.New("store: closed")
	}
	if err := s.space.check(s); err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		txn := s.db.NewTransaction(true)
		if err := fn(txn); err != nil {
			txn.Discard()
			return err
		}
		err := txn.Commit() // Commit discards txn.
		if err == nil {
			return nil
		}
		if !errors.Is(err, badger.ErrConflict) {
			return fmt.Errorf("store: commit: %w", err)
		}
		if attempt > maxRetries {
			return fmt.Errorf("store: commit: still conflicting after %d attempts: %w", attempt, err)
		}
		s.log.Debug("store: transaction conflict, running it again", "attempt", attempt)
	}
}

func (s *Store) view(fn func(txn *badger.Txn) error) error {
	if s.db.IsClosed() {
		// Badger's iterators panic on a closed database; say it instead.
		return errors.New("store: closed")
	}
	return s.db.View(fn)
}

// getJSON decodes the value at key into v, or returns ErrNotFound.
func getJSON(txn *badger.Txn, key []byte, v any) error {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	return item.Value(func(b []byte) error { return json.Unmarshal(b, v) })
}

func putJSON(txn *badger.Txn, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return txn.Set(key, b)
}

// scan calls fn for every key under prefix in key order, with the value if
// withValues is set. Key and value are copies, so fn may keep them; fn
// returning errStop ends the scan without error.
func scan(txn *badger.Txn, prefix []byte, withValues bool, fn func(key, value []byte) error) error {
	return scanFrom(txn, prefix, prefix, withValues, fn)
}

// scanFrom is scan starting at the key start within prefix.
func scanFrom(txn *badger.Txn, prefix, start []byte, withValues bool, fn func(key, value []byte) error) error {
	opts := badger.DefaultIteratorOptions
	opts.Prefix = prefix
	opts.PrefetchValues = withValues
	opts.PrefetchSize = 16
	it := txn.NewIterator(opts)
	defer it.Close() // Badger panics if a transaction ends with an open iterator.
	for it.Seek(start); it.ValidForPrefix(prefix); it.Next() {
		item := it.Item()
		key := item.KeyCopy(nil)
		var value []byte
		if withValues {
			var err error
			if value, err = item.ValueCopy(nil); err != nil {
				return fmt.Errorf("read %q: %w", key, err)
			}
		}
		if err := fn(key, value); err != nil {
			if errors.Is(err, errStop) {
				return nil
			}
			return err
		}
	}
	return nil
}

// errStop ends a scan early; scan does not return it.
var errStop = errors.New("stop scan")

// badgerLogger passes Badger's warnings and errors to slog. Badger logs
// every compaction and flush at INFO, which is noise for a chat bot.
type badgerLogger struct{ log *slog.Logger }

func (l badgerLogger) Errorf(format string, args ...any) {
	l.log.Error(strings.TrimSpace(fmt.Sprintf(format, args...)))
}

func (l badgerLogger) Warningf(format string, args ...any) {
	l.log.Warn(strings.TrimSpace(fmt.Sprintf(format, args...)))
}

func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}

// The store is the service's bot.Store; the compiler keeps the two in step.
var (
	_ bot.Store = (*Store)(nil)
	_ bot.Tx    = (*Tx)(nil)
)
