// Package registry serves the policy set in force and hot-reloads a policy
// folder, keeping the last good set when an edit is broken. It is the I/O
// half of the rulebook: package policies only loads what it is given.
package registry

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"

	"ombud/policies"
)

// Registry holds the policy set in force. It swaps in a new set only when
// the whole set is valid, so a bad edit never reaches a consumer.
type Registry struct {
	fsys    fs.FS
	dir     string // folder on disk; "" for the bundled policies
	name    string // how files are named in problems
	log     *slog.Logger
	current atomic.Pointer[policies.Set]

	// OnReload, if set, is called after every reload attempt with the set
	// now in force and the reason a new set was refused (nil on success).
	// Metrics and tests observe reloads through it.
	OnReload func(current *policies.Set, err error)
	// OpenCases, if set, counts an issuer's cases not yet closed: a reload
	// that removes an issuer with open cases is refused.
	OpenCases func(issuer string) (int, error)
}

// NewBundled serves the policies embedded in the binary.
func NewBundled(log *slog.Logger) (*Registry, error) {
	return newRegistry(policies.Bundled(), "", policies.BundledDir, log)
}

// NewDir serves the policies in dir, which Watch reloads on change.
func NewDir(dir string, log *slog.Logger) (*Registry, error) {
	return newRegistry(os.DirFS(dir), dir, dir, log)
}

func newRegistry(fsys fs.FS, dir, name string, log *slog.Logger) (*Registry, error) {
	r := &Registry{fsys: fsys, dir: dir, name: name, log: log}
	set, err := policies.Load(fsys, name)
	if err != nil {
		return nil, err
	}
	r.current.Store(set)
	r.logWarnings(set)
	return r, nil
}

// Current is the set in force. It never returns nil.
func (r *Registry) Current() *policies.Set { return r.current.Load() }

// Reload loads the folder again and swaps the new set in if it is valid.
// On failure the last good set stays in force and the problems are returned.
func (r *Registry) Reload() error {
	set, err := policies.Load(r.fsys, r.name)
	if err == nil {
		err = r.removals(r.Current(), set)
	}
	if err != nil {
		r.log.Error("policy reload refused; keeping the last good policies", "dir", r.name, "problems", err.Error())
	} else {
		old := r.current.Swap(set)
		r.logChanges(old, set)
		r.logWarnings(set)
	}
	if r.OnReload != nil {
		r.OnReload(r.Current(), err)
	}
	return err
}

// removals refuses a new set that drops an issuer still in use: a deleted
// or misnamed file must not take the company away from consumers with open
// cases, or from the list, by accident. An issuer leaves in two steps:
// withdrawn: true, then the file's removal once its cases are closed.
func (r *Registry) removals(old, set *policies.Set) error {
	var problems policies.Problems
	for _, p := range old.All() {
		if _, kept := set.Get(p.ID); kept {
			continue
		}
		if !p.Withdrawn {
			problems = append(problems, policies.Problem{File: p.File, Severity: policies.Error,
				Message: fmt.Sprintf("issuer %s is gone from the folder; to retire it, set withdrawn: true first, and remove the file once its cases are closed", p.ID)})
			continue
		}
		if r.OpenCases == nil {
			continue
		}
		n, err := r.OpenCases(p.ID)
		if err != nil {
			return fmt.Errorf("policies: count the open cases of %s: %w", p.ID, err)
		}
		if n > 0 {
			problems = append(problems, policies.Problem{File: p.File, Severity: policies.Error,
				Message: fmt.Sprintf("issuer %s is gone from the folder but has %d open cases; keep the file until they are closed", p.ID, n)})
		}
	}
	if len(problems) > 0 {
		return problems
	}
	return nil
}

// Watch reloads the folder when a policy file in it changes, until ctx ends.
// It watches the folder, not the files: editors save by renaming a temporary
// file over the old one, which a file watch would lose. Bursts of events are
// debounced into one reload.
func (r *Registry) Watch(ctx context.Context, debounce time.Duration) error {
	return r.watch(ctx, debounce, nil)
}

// watch is Watch; ready, if not nil, is closed once the folder is watched.
func (r *Registry) watch(ctx context.Context, debounce time.Duration, ready chan<- struct{}) error {
	signalReady := func() {
		if ready != nil {
			close(ready)
			ready = nil
		}
	}
	defer signalReady() // also on early errors, so a waiting test fails instead of hanging
	if r.dir == "" {
		signalReady()
		<-ctx.Done() // bundled policies never change
		return nil
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("policies: watch %s: %w", r.dir, err)
	}
	defer w.Close()
	if err := w.Add(r.dir); err != nil {
		return fmt.Errorf("policies: watch %s: %w", r.dir, err)
	}
	signalReady()
	timer := time.NewTimer(debounce)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return errors.New("policies: watcher closed")
			}
			// A Kubernetes ConfigMap is updated by swapping its "..data"
			// symlink: the *.yaml links never change themselves.
			if base := filepath.Base(ev.Name); policies.IsPolicyFile(base) || strings.HasPrefix(base, "..data") {
				timer.Reset(debounce)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return errors.New("policies: watcher closed")
			}
			r.log.Warn("policy watcher error", "dir", r.dir, "err", err)
		case <-timer.C:
			_ = r.Reload() // refusals are logged and reported through OnReload
		}
	}
}

func (r *Registry) logChanges(old, set *policies.Set) {
	for _, p := range set.All() {
		prev, ok := old.Get(p.ID)
		switch {
		case !ok:
			r.log.Info("policy added", "policy", p.ID, "version", p.Version)
		case prev.Version != p.Version:
			r.log.Info("policy updated", "policy", p.ID, "version", p.Version, "previous", prev.Version)
		}
	}
	for _, id := range old.IDs() {
		if _, ok := set.Get(id); !ok {
			r.log.Info("policy removed", "policy", id)
		}
	}
}

func (r *Registry) logWarnings(set *policies.Set) {
	for _, w := range set.Warnings() {
		r.log.Warn("policy lint", "problem", w.String())
	}
}
