package policies

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type reload struct {
	version string
	err     error
}

// watchDir starts a registry watching dir and returns a channel of its
// reload results.
func watchDir(t *testing.T, dir string, logs *syncBuffer) (*Registry, <-chan reload) {
	t.Helper()
	r, err := NewDirRegistry(dir, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	results := make(chan reload, 16)
	r.OnReload = func(s *Set, err error) {
		p, _ := s.Get("mini-se")
		results <- reload{p.Version, err}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan struct{})
	go func() { done <- r.watch(ctx, 20*time.Millisecond, ready) }()
	<-ready
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watch: %v", err)
		}
	})
	return r, results
}

func next(t *testing.T, results <-chan reload) reload {
	t.Helper()
	select {
	case r := <-results:
		return r
	case <-time.After(10 * time.Second): // a failure bound, not a timing assertion
		t.Fatal("no reload after a change to the folder")
		return reload{}
	}
}

// writeAtomic saves like editors do: a hidden temporary file renamed over
// the old one.
func writeAtomic(t *testing.T, dir, name, content string) {
	t.Helper()
	tmp := filepath.Join(dir, ".tmp-"+name)
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

func TestRegistryReloadsValidAndKeepsLastGood(t *testing.T) {
	dir := t.TempDir()
	mini := readMini(t)
	writeAtomic(t, dir, "mini-se.yaml", mini)
	logs := &syncBuffer{}
	r, results := watchDir(t, dir, logs)
	first := r.Current()
	p, _ := first.Get("mini-se")
	v1 := p.Version

	// A broken edit is refused; the last good set stays in force.
	writeAtomic(t, dir, "mini-se.yaml", strings.Replace(mini, "country: SE", "country: NO", 1))
	got := next(t, results)
	if got.err == nil || !strings.Contains(got.err.Error(), `mini-se.yaml:6:10: country: unknown country "NO"`) {
		t.Fatalf("broken reload error = %v, want file:line:col of the bad country", got.err)
	}
	if got.version != v1 || r.Current() != first {
		t.Fatalf("broken edit replaced the policies: version %s, want %s", got.version, v1)
	}
	if !strings.Contains(logs.String(), "policy reload refused") {
		t.Errorf("refusal not logged:\n%s", logs.String())
	}

	// A valid edit is swapped in, with a new version.
	writeAtomic(t, dir, "mini-se.yaml", strings.Replace(mini, "Ring oss.", "Ring oss gärna.", 1))
	got = next(t, results)
	if got.err != nil {
		t.Fatalf("valid reload failed: %v", got.err)
	}
	if got.version == v1 {
		t.Fatal("valid edit kept the old version")
	}
	p, _ = r.Current().Get("mini-se")
	if p.Steps[0].Description["sv"] != "Ring oss gärna." {
		t.Errorf("current policy not updated: %q", p.Steps[0].Description["sv"])
	}
	// The set in use before the swap is untouched: open cases keep theirs.
	old, _ := first.Get("mini-se")
	if old.Version != v1 || old.Steps[0].Description["sv"] != "Ring oss." {
		t.Error("the previous set was modified by the reload")
	}
}

func TestRegistryRefusesBrokenStart(t *testing.T) {
	dir := t.TempDir()
	writeAtomic(t, dir, "mini-se.yaml", "id: [")
	if _, err := NewDirRegistry(dir, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("a registry started on broken policies")
	}
}

func TestBundledRegistry(t *testing.T) {
	r, err := NewBundledRegistry(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(r.Current().IDs()); got != 5 {
		t.Errorf("bundled registry has %d policies, want 5", got)
	}
	if err := r.Reload(); err != nil {
		t.Errorf("reloading the bundled policies: %v", err)
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's goroutine and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
