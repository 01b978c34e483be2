package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"ombud/bot"
)

// ErrDiskFull is bot.ErrDiskFull: the data directory's filesystem has
// less free space than the store keeps in reserve, so nothing was written.
var ErrDiskFull = bot.ErrDiskFull

// DefaultReserve is the free space the store keeps on its filesystem. Badger
// writes through memory-mapped files that it creates sparse: a write into
// one when the disk has no block left is a SIGBUS, which no Go code can
// recover from. The reserve covers what Badger may fill before the store
// looks again: a memtable's log (2 x 8 MiB), a value log (2 x 16 MiB) and a
// flushed table (8 MiB), with room to spare for compaction.
const DefaultReserve = 64 << 20

// FreeSpace is the space an unprivileged process may still write on the
// filesystem that holds dir, or would hold it once created.
func FreeSpace(dir string) (int64, error) {
	for {
		var fs unix.Statfs_t
		err := unix.Statfs(dir, &fs)
		if err == nil {
			return int64(fs.Bavail) * int64(fs.Bsize), nil
		}
		parent := filepath.Dir(dir)
		if !errors.Is(err, unix.ENOENT) || parent == dir {
			return 0, fmt.Errorf("store: free space of %s: %w", dir, err)
		}
		dir = parent
	}
}

// space guards writes against a full disk.
type space struct {
	dir     string
	reserve int64

	mu      sync.Mutex
	full    bool
	free    int64
	refused uint64
	// allocated holds the Badger files already given their blocks;
	// swept is when the directory was last listed for new ones.
	allocated map[string]bool
	swept     time.Time
}

// check returns ErrDiskFull, wrapped with the figures, when a write could
// leave less than the reserve free, and counts the refusal.
func (sp *space) check(s *Store) error {
	free, full := sp.look(s)
	if !full {
		return nil
	}
	sp.mu.Lock()
	sp.refused++
	sp.mu.Unlock()
	return fmt.Errorf("%w: %s has %d bytes free, %d kept in reserve", ErrDiskFull, sp.dir, free, sp.reserve)
}

// look reads the free space, logs a change between full and not, and
// gives Badger's new sparse files their blocks, so that writes into them
// cannot fault when another program fills the disk between two looks.
func (sp *space) look(s *Store) (free int64, full bool) {
	free, err := FreeSpace(sp.dir)
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if err != nil {
		// A filesystem that cannot say (some network mounts) is not
		// taken for a full one.
		return 0, false
	}
	sp.free = free
	full = free < sp.reserve
	switch {
	case full && !sp.full:
		s.log.Error("the data disk is full: not confirming new messages until space returns",
			"dir", sp.dir, "free_bytes", free, "reserve_bytes", sp.reserve)
	case !full && sp.full:
		s.log.Info("the data disk has space again; carrying on", "dir", sp.dir, "free_bytes", free)
	}
	sp.full = full
	if !full {
		sp.preallocate(s)
	}
	return free, full
}

// preallocate asks the filesystem for the blocks of Badger's memtable logs
// (*.mem), which Badger creates at full length (16 MiB here) but sparse.
// Every commit is written there first. Value logs are left sparse: they
// take only values of 1 MiB or more, which Ombud never writes, and
// allocating them would cost 32 MiB of disk for nothing. Filesystems
// without fallocate are left as they are.
func (sp *space) preallocate(s *Store) {
	// Badger starts a new memtable log every 8 MiB of commits; a look
	// each second finds it long before that much can be written, and
	// keeps a directory listing off every commit.
	if time.Since(sp.swept) < time.Second {
		return
	}
	sp.swept = time.Now()
	entries, err := os.ReadDir(sp.dir)
	if err != nil {
		return
	}
	seen := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".mem") {
			continue
		}
		seen[name] = true
		if sp.allocated[name] {
			continue
		}
		sp.allocated[name] = true
		if err := fallocate(filepath.Join(sp.dir, name)); err != nil {
			s.log.Debug("preallocate", "file", name, "err", err)
		}
	}
	for name := range sp.allocated {
		if !seen[name] {
			delete(sp.allocated, name)
		}
	}
}

// fallocate gives a file blocks for its whole length without changing its
// length or its bytes.
func fallocate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || info.Size() == 0 {
		return err
	}
	return unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_KEEP_SIZE, 0, info.Size())
}

// Full reports whether writes are refused for want of space.
func (s *Store) Full() bool { return s.Space().Full }

// SpaceStatus is what the store last saw of its disk.
type SpaceStatus struct {
	Full bool
	// Free is the free space at the last look, in bytes.
	Free int64
	// Reserve is the free space the store keeps, in bytes.
	Reserve int64
	// Refused counts the writes refused for want of space.
	Refused uint64
}

// Space looks at the disk now and reports it. Readiness checks and
// metrics call it; it writes nothing.
func (s *Store) Space() SpaceStatus {
	s.space.look(s)
	s.space.mu.Lock()
	defer s.space.mu.Unlock()
	return SpaceStatus{Full: s.space.full, Free: s.space.free, Reserve: s.space.reserve, Refused: s.space.refused}
}
