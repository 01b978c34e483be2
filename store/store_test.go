package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"ombud/bot"
	"ombud/bot/storetest"
	"ombud/dialog"
)

// t0 is the contract suite's "now"; UTC, so times survive JSON and compare
// with reflect.DeepEqual.
var t0 = storetest.T0

const testTTL = time.Hour

// testKey is a fixed AES-256 key for the encrypted variants.
func testKey() []byte { return []byte("0123456789abcdef0123456789abcdef") }

// openStore opens dir and closes it when the test ends; closing twice is
// harmless, so tests may close it earlier.
func openStore(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// badgerOpener opens Badger stores for the contract suite, with the
// variant's own options; Reopen closes one and opens its directory again.
func badgerOpener(variant Options) storetest.Opener {
	return storetest.Opener{
		Open: func(t *testing.T, now func() time.Time, ttl time.Duration) bot.Store {
			opts := variant
			opts.Now, opts.DedupeTTL = now, ttl
			return openStore(t, t.TempDir(), opts)
		},
		Reopen: func(t *testing.T, bs bot.Store) bot.Store {
			s := bs.(*Store)
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			opts := variant
			opts.Now, opts.DedupeTTL = s.now, s.dedupeTTL
			return openStore(t, s.dir, opts)
		},
	}
}

func TestContract(t *testing.T) { storetest.Run(t, badgerOpener(Options{})) }

func TestContractEncrypted(t *testing.T) {
	storetest.Run(t, badgerOpener(Options{EncryptionKey: testKey()}))
}

// Badger-only behaviour, beside the contract.
func TestBadger(t *testing.T) {
	open := func(t *testing.T, dir string, opts Options) *Store { return openStore(t, dir, opts) }
	start := func(t *testing.T) (*Store, *storetest.Clock, func() *Store) {
		clock := &storetest.Clock{}
		return openStore(t, t.TempDir(), Options{Now: clock.Now, DedupeTTL: testTTL}), clock, nil
	}

	t.Run("Locked", func(t *testing.T) {
		dir := t.TempDir()
		opts := Options{}
		s := open(t, dir, opts)
		_, err := Open(dir, opts)
		if !errors.Is(err, ErrLocked) {
			t.Fatalf("second Open: err = %v, want ErrLocked", err)
		}
		if !strings.Contains(err.Error(), dir) {
			t.Errorf("second Open: error %q does not name %s", err, dir)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		open(t, dir, opts) // fails the test if the lock was kept
	})

	t.Run("UpdateRetriesOnConflict", func(t *testing.T) {
		// Update's own writers never overlap, so the conflict is made by a
		// raw Badger write between fn's read and its commit.
		tests := []struct {
			name      string
			conflicts int // how many runs of fn see a concurrent write
			wantRuns  int
			wantErr   error
			wantState dialog.State
		}{
			{"one conflict", 1, 2, nil, dialog.StateReview},
			{"always", 1000, maxRetries + 1, badger.ErrConflict, dialog.StateField},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s, _, _ := start(t)
				mustUpdate(t, s, func(tx bot.Tx) error { return tx.PutSession("telegram:42", storetest.Session("telegram", "42")) })
				runs := 0
				err := s.Update(func(tx bot.Tx) error {
					runs++
					sess, err := tx.Session("telegram:42")
					if err != nil {
						return err
					}
					if runs <= tt.conflicts {
						err := rawDB(s).Update(func(txn *badger.Txn) error {
							return putJSON(txn, sessionKey("telegram:42"), sess)
						})
						if err != nil {
							return err
						}
					}
					sess.State = dialog.StateReview
					return tx.PutSession("telegram:42", sess)
				})
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("Update err = %v, want %v", err, tt.wantErr)
				}
				if runs != tt.wantRuns {
					t.Errorf("fn ran %d times, want %d", runs, tt.wantRuns)
				}
				var got dialog.Session
				mustView(t, s, func(tx bot.Tx) (err error) {
					got, err = tx.Session("telegram:42")
					return err
				})
				if got.State != tt.wantState {
					t.Errorf("State = %q, want %q", got.State, tt.wantState)
				}
			})
		}
	})

	t.Run("SessionsInKeyOrder", func(t *testing.T) {
		s, _, _ := start(t)
		mustUpdate(t, s, func(tx bot.Tx) error {
			for _, chat := range []string{"3", "1", "2"} {
				if err := tx.PutSession("telegram:"+chat, storetest.Session("telegram", chat)); err != nil {
					return err
				}
			}
			return nil
		})
		var keys []string
		if err := s.Sessions(func(key string, _ dialog.Session) error { keys = append(keys, key); return nil }); err != nil {
			t.Fatal(err)
		}
		if want := []string{"telegram:1", "telegram:2", "telegram:3"}; !slices.Equal(keys, want) {
			t.Errorf("Sessions = %q, want %q", keys, want)
		}
	})
}

func TestOpenErrors(t *testing.T) {
	encrypted := t.TempDir()
	s := openStore(t, encrypted, Options{EncryptionKey: testKey()})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	plain := t.TempDir()
	s = openStore(t, plain, Options{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	wrong := bytes.Repeat([]byte("k"), 32)
	tests := []struct {
		name    string
		dir     string
		key     []byte
		wantIs  error  // nil: any error
		wantMsg string // a phrase the error must contain
	}{
		{"missing key", encrypted, nil, ErrWrongKey, "wrong or missing"},
		{"wrong key", encrypted, wrong, ErrWrongKey, "wrong or missing"},
		{"key for plain data", plain, testKey(), ErrWrongKey, "unencrypted"},
		{"short key", encrypted, []byte("short"), nil, "want 16, 24 or 32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(tt.dir, Options{EncryptionKey: tt.key})
			if err == nil {
				s.Close()
				t.Fatal("Open: no error")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Open: err = %v, want %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) || !strings.Contains(err.Error(), tt.dir) {
				t.Errorf("Open: error %q should contain %q and %s", err, tt.wantMsg, tt.dir)
			}
		})
	}
	// A failed open leaves the directory usable with the right key.
	openStore(t, encrypted, Options{EncryptionKey: testKey()})
}

// TestOpenOnAFullDisk: a store that cannot keep its reserve free refuses
// to open, before Badger writes anything, and says how much space it has.
// cmd/ombud's TestServeSurvivesAFullDisk fills a real filesystem.
func TestOpenOnAFullDisk(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	free, err := FreeSpace(dir)
	if err != nil || free <= 0 {
		t.Fatalf("FreeSpace of a directory still to be made = %d, %v", free, err)
	}
	s, err := Open(dir, Options{Reserve: free + 1<<40})
	if err == nil {
		s.Close()
		t.Fatal("opened with less free space than the reserve")
	}
	if !errors.Is(err, ErrDiskFull) || !strings.Contains(err.Error(), "bytes free") {
		t.Errorf("err = %v, want ErrDiskFull with the figures", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the refused open made %s (%v)", dir, err)
	}
	s = openStore(t, dir, Options{})
	if sp := s.Space(); sp.Full || sp.Free <= 0 || sp.Reserve != DefaultReserve || sp.Refused != 0 {
		t.Errorf("Space() = %+v on a roomy disk", sp)
	}
}

// TestEncryptionAtRest checks the complaint text reaches no file in
// plaintext. The plain store is the control: it shows the search would
// find the text if it were there.
func TestEncryptionAtRest(t *testing.T) {
	const secret = "Elgiganten debited my card 4921 twice on 3 November"
	tests := []struct {
		name  string
		key   []byte
		found bool
	}{
		{"plain", nil, true},
		{"encrypted", testKey(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openStore(t, dir, Options{EncryptionKey: tt.key})
			mustUpdate(t, s, func(tx bot.Tx) error {
				return tx.PutComplaint(storetest.Complaint("AXSE-2026-000001", secret))
			})
			// Check once with the write only in the log, once after Close
			// has flushed it into a table.
			if got := dirContains(t, dir, []byte(secret)); got != tt.found {
				t.Errorf("plaintext in files while open = %v, want %v", got, tt.found)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if got := dirContains(t, dir, []byte(secret)); got != tt.found {
				t.Errorf("plaintext in files after close = %v, want %v", got, tt.found)
			}
			s = openStore(t, dir, Options{EncryptionKey: tt.key})
			mustView(t, s, func(tx bot.Tx) error {
				c, err := tx.Complaint("AXSE-2026-000001")
				if err == nil && c.Answers[0].Value != secret {
					t.Errorf("reopened complaint text = %q, want %q", c.Answers[0].Value, secret)
				}
				return err
			})
		})
	}
}

// dirContains reports whether any file under dir contains needle.
func dirContains(t *testing.T, dir string, needle []byte) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || found {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		found = bytes.Contains(b, needle)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// BenchmarkDurableTurn is one handled input as the bot commits it.
// Compare with BenchmarkBareTxn: the difference is the store's own work
// (JSON, counters, dedupe reads) on top of Badger's synced commit.
func BenchmarkDurableTurn(b *testing.B) {
	s := openStore(b, b.TempDir(), Options{})
	items := enqueueN(b, s, b.N)
	sess := storetest.Session("telegram", "42")
	c := benchComplaint()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		err := s.Update(func(tx bot.Tx) error {
			if err := tx.PutSession("telegram:42", sess); err != nil {
				return err
			}
			if err := tx.PutComplaint(c); err != nil {
				return err
			}
			if err := tx.AddOutbox(storetest.Output("receipt"), storetest.Output("agents")); err != nil {
				return err
			}
			return tx.Done(items[i])
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareTxn writes, in one raw Badger transaction, as many keys and
// bytes as a durable turn does: session, complaint, outbox counter, two
// outbox entries, handled key, and the two inbox deletions as writes.
func BenchmarkBareTxn(b *testing.B) {
	s := openStore(b, b.TempDir(), Options{})
	db := rawDB(s)
	values := turnValues(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		err := db.Update(func(txn *badger.Txn) error {
			for j, v := range values {
				if err := txn.Set(fmt.Appendf(nil, "bench/%d/%d", j, i), v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// rawDB reaches the Badger handle, for the baseline benchmark only.
func rawDB(s *Store) *badger.DB { return s.db }

// turnValues are values of the sizes a durable turn writes.
func turnValues(b *testing.B) [][]byte {
	b.Helper()
	marshal := func(v any) []byte {
		bs, err := json.Marshal(v)
		if err != nil {
			b.Fatal(err)
		}
		return bs
	}
	c := benchComplaint()
	if n := len(marshal(c)); n < 1800 || n > 2400 {
		b.Fatalf("bench complaint is %d bytes of JSON, want about 2 KB", n)
	}
	return [][]byte{
		marshal(storetest.Session("telegram", "42")),
		marshal(c),
		u64(2), // outbox counter
		marshal(outboxRecord{Output: storetest.Output("receipt")}),
		marshal(outboxRecord{Output: storetest.Output("agents")}),
		u64(uint64(t0.UnixNano())), // handled key
		nil,                        // inbox item deletion
		nil,                        // pending marker deletion
	}
}

func enqueueN(b *testing.B, s *Store, n int) []bot.InboxItem {
	b.Helper()
	const batch = 500 // well under Badger's transaction size limit
	for i := 0; i < n; i += batch {
		var ins []dialog.Input
		for j := i; j < min(i+batch, n); j++ {
			ins = append(ins, storetest.Input(fmt.Sprintf("tg:%d", j), "hello"))
		}
		if _, err := s.Enqueue(nil, ins...); err != nil {
			b.Fatal(err)
		}
	}
	items, err := s.Pending(0)
	if err != nil || len(items) != n {
		b.Fatalf("Pending = %d items, %v; want %d", len(items), err, n)
	}
	return items
}

// Fixtures.

// benchComplaint is a realistic filed complaint of about 2 KB of JSON.
func benchComplaint() dialog.Complaint {
	c := storetest.Complaint("AXSE-2026-000123", strings.Repeat("Kortet debiterades två gånger. ", 12))
	for i := range 4 {
		c.Answers = append(c.Answers, dialog.FiledAnswer{
			Field: fmt.Sprintf("field_%d", i), Question: "En fråga om köpet?", Value: "ett svar", Display: "Ett svar",
		})
	}
	c.History = append(c.History, dialog.Event{At: t0, Kind: dialog.EventConsumer, Text: strings.Repeat("Hej! ", 20)})
	return c
}

// Helpers.

func mustUpdate(t testing.TB, s *Store, fn func(tx bot.Tx) error) {
	t.Helper()
	if err := s.Update(fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func mustView(t testing.TB, s *Store, fn func(tx bot.Tx) error) {
	t.Helper()
	if err := s.View(fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// The queue floor must never hide an entry: entries handled out of order,
// and entries queued after a scan, are all still found.
func TestQueueFloorNeverHidesEntries(t *testing.T) {
	s := openStore(t, t.TempDir(), Options{})
	seqs := func() []uint64 {
		t.Helper()
		items, err := s.Pending(0)
		if err != nil {
			t.Fatal(err)
		}
		var out []uint64
		for _, it := range items {
			out = append(out, it.Seq)
		}
		return out
	}
	done := func(seq uint64) {
		t.Helper()
		if err := s.Update(func(tx bot.Tx) error { return tx.Done(bot.InboxItem{Seq: seq}) }); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"a", "b", "c"} {
		if _, err := s.Enqueue(nil, dialog.Input{Key: k, Kind: dialog.InputMessage}); err != nil {
			t.Fatal(err)
		}
	}
	all := seqs()
	if len(all) != 3 {
		t.Fatalf("pending %v", all)
	}
	done(all[1])
	if got := seqs(); len(got) != 2 || got[0] != all[0] || got[1] != all[2] {
		t.Fatalf("after handling the middle one: %v", got)
	}
	done(all[0])
	if _, err := s.Enqueue(nil, dialog.Input{Key: "d", Kind: dialog.InputMessage}); err != nil {
		t.Fatal(err)
	}
	if got := seqs(); len(got) != 2 || got[0] != all[2] {
		t.Fatalf("after handling the first and queueing one more: %v", got)
	}
}
