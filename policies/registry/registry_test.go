package registry

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

	"ombud/policies"
)

type reload struct {
	version string
	err     error
}

// watchDir starts a registry watching dir and returns a channel of its
// reload results.
func watchDir(t *testing.T, dir string, logs *syncBuffer) (*Registry, <-chan reload) {
	t.Helper()
	r, err := NewDir(dir, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	results := make(chan reload, 16)
	r.OnReload = func(s *policies.Set, err error) {
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
	if _, err := NewDir(dir, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("a registry started on broken policies")
	}
}

func TestBundledRegistry(t *testing.T) {
	r, err := NewBundled(slog.New(slog.DiscardHandler))
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

// Deleting a policy file is not a way to retire an issuer: the reload is
// refused, like a broken file, until the issuer is withdrawn and, if the
// registry can count them, its cases are closed. A ConfigMap's symlink
// swap reloads like an edit.
func TestRemovingAnIssuerTakesTwoSteps(t *testing.T) {
	dir := t.TempDir()
	mini := readMini(t)
	other := strings.NewReplacer("id: mini-se", "id: mini-two", "case_prefix: MINI", "case_prefix: MTWO").Replace(mini)
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("mini-se.yaml", mini)
	write("mini-two.yaml", other)
	r, err := NewDir(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	open := 2
	r.OpenCases = func(issuer string) (int, error) { return open, nil }

	os.Remove(filepath.Join(dir, "mini-two.yaml"))
	if err := r.Reload(); err == nil || !strings.Contains(err.Error(), "set withdrawn: true first") {
		t.Fatalf("removal without withdrawal: %v", err)
	}
	if _, ok := r.Current().Get("mini-two"); !ok {
		t.Fatal("the issuer is gone although the reload was refused")
	}
	write("mini-two.yaml", strings.Replace(other, "case_prefix: MTWO", "case_prefix: MTWO\nwithdrawn: true", 1))
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := len(r.Current().Offered()); got != 1 {
		t.Errorf("%d issuers offered after the withdrawal, want 1", got)
	}
	os.Remove(filepath.Join(dir, "mini-two.yaml"))
	if err := r.Reload(); err == nil || !strings.Contains(err.Error(), "has 2 open cases") {
		t.Fatalf("removal with open cases: %v", err)
	}
	open = 0
	if err := r.Reload(); err != nil {
		t.Fatalf("removal once withdrawn and closed: %v", err)
	}
	if _, ok := r.Current().Get("mini-two"); ok {
		t.Error("the issuer was not removed")
	}
}

// A Kubernetes ConfigMap volume updates by swapping its ..data symlink to
// a new folder; no *.yaml event comes, and the edit must still reload.
func TestConfigMapSwapReloads(t *testing.T) {
	dir := t.TempDir()
	mini := readMini(t)
	version := func(name, text string) {
		t.Helper()
		if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "mini-se.yaml"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	version("..2026_12_01_10_00_00.1", mini)
	if err := os.Symlink("..2026_12_01_10_00_00.1", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..data/mini-se.yaml", filepath.Join(dir, "mini-se.yaml")); err != nil {
		t.Fatal(err)
	}
	r, results := watchDir(t, dir, &syncBuffer{})
	// The kubelet's swap: a new folder, a new link, renamed over ..data.
	version("..2026_12_02_10_00_00.2", strings.Replace(mini, "Ring oss.", "Ring oss gärna.", 1))
	if err := os.Symlink("..2026_12_02_10_00_00.2", filepath.Join(dir, "..data_tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if got := next(t, results); got.err != nil {
		t.Fatalf("reload after the swap: %v", got.err)
	}
	if p, _ := r.Current().Get("mini-se"); p.Steps[0].Description["sv"] != "Ring oss gärna." {
		t.Errorf("the swapped ConfigMap was not loaded: %q", p.Steps[0].Description["sv"])
	}
}

// readMini is the small valid policy the policies package tests with.
func readMini(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../testdata/mini-se.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
