package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"time"
)

// Exit codes.
const (
	exitOK       = 0
	exitProblems = 1 // the command ran and found problems (policy check)
	exitUsage    = 2 // bad command line or bad input
)

// Env is everything a command may touch of the outside world, so tests can
// run commands in-process.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	Now    func() time.Time
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// command is one subcommand. run gets the arguments after the command's
// name and returns an exit code.
type command struct {
	name    string
	args    string // synopsis of the arguments
	summary string
	run     func(ctx context.Context, env *Env, args []string) int
}

func commands() []command {
	return []command{
		{"serve", "[--data DIR] [--http ADDR]", "run Ombud on Telegram, with the deadline scheduler and health checks", runServe},
		{"chat", "[--issuer ID] [--lang L] [--data DIR]", "file and follow a complaint in the terminal, with a local agent desk", runChat},
		{"policy", "check|explain ...", "check or explain issuer policies", runPolicy},
		{"complaints", "list|show|export|stats", "read the complaints register", runComplaints},
		{"backup", "FILE", "copy the store, even while ombud serve runs", runBackup},
		{"restore", "FILE", "load a backup into an empty data directory", runRestore},
		{"deadline", "--country SE|DK --from YYYY-MM-DD --working-days N", "print a due date in working or calendar days", runDeadline},
		{"help", "[COMMAND]", "show help for ombud or a command", runHelp},
	}
}

// Run runs the command line args and returns the process exit code.
func Run(ctx context.Context, env *Env, args []string) int {
	if len(args) == 0 {
		usage(env.Stderr)
		return exitUsage
	}
	name := args[0]
	if name == "-h" || name == "--help" || name == "-help" {
		usage(env.Stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, env, args[1:])
		}
	}
	fmt.Fprintf(env.Stderr, "ombud: unknown command %q\n\n", name)
	usage(env.Stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Ombud helps consumers complain to Nordic financial issuers.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: ombud COMMAND [ARGS]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, `Run "ombud help COMMAND" or "ombud COMMAND --help" for a command's options.`)
}

func runHelp(ctx context.Context, env *Env, args []string) int {
	if len(args) == 0 {
		usage(env.Stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] && c.name != "help" {
			return c.run(ctx, env, append(args[1:], "--help"))
		}
	}
	if args[0] == "help" {
		usage(env.Stdout)
		return exitOK
	}
	fmt.Fprintf(env.Stderr, "ombud help: unknown command %q\n", args[0])
	return exitUsage
}

// newFlags makes a flag set whose usage text starts with the synopsis.
// --help prints it to stdout; a mistake prints it to stderr.
func newFlags(env *Env, name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: ombud %s %s\n\n%s\n", name, synopsis, about)
		var hasFlags bool
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(out, "\nOptions:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses flags that may come before, between or after the
// positional arguments, and returns the positional ones. The exit code is
// meaningful only when ok is false.
func parseFlags(env *Env, fs *flag.FlagSet, args []string) (positional []string, code int, ok bool) {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			fs.SetOutput(env.Stdout)
			fs.Usage()
			return nil, exitOK, false
		}
	}
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitOK, false
			}
			return nil, exitUsage, false
		}
		if fs.NArg() == 0 {
			return positional, exitOK, true
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// usageError reports a bad argument with the command's usage and returns
// the usage exit code.
func usageError(env *Env, fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(env.Stderr, "ombud %s: %s\n\n", fs.Name(), fmt.Sprintf(format, args...))
	fs.Usage()
	return exitUsage
}

// dataFlag is the --data flag every command that opens the store has.
func dataFlag(fs *flag.FlagSet, env *Env) *string {
	return fs.String("data", envOr(env, "OMBUD_DATA_DIR", "ombud-data"), "data directory ($OMBUD_DATA_DIR)")
}

func envOr(env *Env, name, fallback string) string {
	if v := env.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// encryptionKey reads OMBUD_ENCRYPTION_KEY: nil when unset, an error when
// malformed, so no command silently opens or creates an unencrypted store.
func encryptionKey(env *Env) ([]byte, error) {
	k := env.Getenv("OMBUD_ENCRYPTION_KEY")
	if k == "" {
		return nil, nil
	}
	key, err := decodeKey(k)
	if err != nil {
		return nil, fmt.Errorf("OMBUD_ENCRYPTION_KEY: %w", err)
	}
	return key, nil
}

// decodeKey reads an encryption key written as hex or base64.
func decodeKey(s string) ([]byte, error) {
	key, err := hex.DecodeString(s)
	if err != nil {
		if key, err = base64.StdEncoding.DecodeString(s); err != nil {
			return nil, errors.New("write the key as hex or base64")
		}
	}
	if n := len(key); n != 16 && n != 24 && n != 32 {
		return nil, fmt.Errorf("the key has %d bytes; it must have 16, 24 or 32", n)
	}
	return key, nil
}
