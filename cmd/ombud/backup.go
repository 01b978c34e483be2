package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"

	"ombud/store"
)

func runBackup(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "backup", "FILE [--data DIR]",
		"Writes a consistent copy of the store to FILE. While ombud serve holds the data\n"+
			"directory, the copy comes from the running server (OMBUD_HTTP_ADDR, /admin/backup).")
	data := dataFlag(fs, env)
	rest, code, ok := parseFlags(env, fs, args)
	if !ok {
		return code
	}
	if len(rest) != 1 {
		return usageError(env, fs, "name the backup file")
	}
	key, err := encryptionKey(env)
	if err != nil {
		return usageError(env, fs, "%v", err)
	}
	tmp := rest[0] + ".partial"
	// A backup holds every consumer's data: only its owner may read it.
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		fmt.Fprintf(env.Stderr, "ombud backup: %v\n", err)
		return exitProblems
	}
	err = backupTo(ctx, env, *data, key, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, rest[0]) // a half-written backup never takes the name
	}
	if err != nil {
		os.Remove(tmp)
		fmt.Fprintf(env.Stderr, "ombud backup: %v\n", err)
		return exitProblems
	}
	fmt.Fprintf(env.Stdout, "backup written to %s\n", rest[0])
	return exitOK
}

func backupTo(ctx context.Context, env *Env, dir string, key []byte, w io.Writer) error {
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("no data directory %s", dir)
	}
	st, err := store.Open(dir, store.Options{EncryptionKey: key})
	if errors.Is(err, store.ErrLocked) {
		return adminGet(ctx, env, "/admin/backup", func(r io.Reader) error {
			_, err := io.Copy(w, r)
			return err
		})
	}
	if err != nil {
		return err
	}
	defer st.Close()
	return st.Backup(w)
}

func runRestore(_ context.Context, env *Env, args []string) int {
	fs := newFlags(env, "restore", "FILE [--data DIR] [--force]",
		"Loads a backup into the data directory. It refuses a directory that already holds\n"+
			"data unless --force is given; stop ombud serve first.")
	data := dataFlag(fs, env)
	force := fs.Bool("force", false, "load into a directory that already holds data")
	rest, code, ok := parseFlags(env, fs, args)
	if !ok {
		return code
	}
	if len(rest) != 1 {
		return usageError(env, fs, "name the backup file")
	}
	key, err := encryptionKey(env)
	if err != nil {
		return usageError(env, fs, "%v", err)
	}
	in, err := os.Open(rest[0])
	if err != nil {
		fmt.Fprintf(env.Stderr, "ombud restore: %v\n", err)
		return exitProblems
	}
	defer in.Close()
	if err := store.CheckBackup(in); err != nil {
		fmt.Fprintf(env.Stderr, "ombud restore: %s: %v; nothing was written\n", rest[0], err)
		return exitProblems
	}
	entries, statErr := os.ReadDir(*data)
	if len(entries) > 0 && !*force {
		fmt.Fprintf(env.Stderr, "ombud restore: %s is not empty; restore into a new directory, or add --force to load into it\n", *data)
		return exitProblems
	}
	fresh := len(entries) == 0 // nothing of the operator's there to keep
	st, err := store.Open(*data, store.Options{EncryptionKey: key})
	if err != nil {
		fmt.Fprintf(env.Stderr, "ombud restore: %v\n", err)
		return exitProblems
	}
	err = st.Restore(in)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if fresh {
			// A failed restore leaves a half-loaded store that would refuse
			// the next, good one: take it away again.
			clearDir(*data, errors.Is(statErr, iofs.ErrNotExist))
		}
		fmt.Fprintf(env.Stderr, "ombud restore: %v\n", err)
		return exitProblems
	}
	fmt.Fprintf(env.Stdout, "restored %s into %s\n", rest[0], *data)
	return exitOK
}

// clearDir removes what a failed restore wrote: the directory itself if
// the restore created it, else its contents.
func clearDir(dir string, created bool) {
	if created {
		os.RemoveAll(dir)
		return
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}
