package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"ombud/bot"
	"ombud/bot/console"
	"ombud/dialog"
	"ombud/locales"
	"ombud/policies/registry"
	"ombud/store"
)

func runChat(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "chat", "[--issuer ID] [--lang sv|da|en] [--data DIR]",
		"Talks to Ombud in the terminal, as a consumer, with a local agent desk:\n"+
			"  type an answer, or the number of an option; /new /status /back /cancel /language /help\n"+
			"  /attach NAME sends a file; /agent reply|note|claim|extend|decide|close|reopen acts as the agent\n"+
			"Reads standard input line by line, so a conversation can be piped in. State is kept in\n"+
			"the data directory: run again to resume where the conversation stood.")
	issuer := fs.String("issuer", "", "start with this issuer, as a link would (e.g. amex-se)")
	lang := fs.String("lang", "", "the consumer's language: sv, da or en (default: from $LANG)")
	data := dataFlag(fs, env)
	now := fs.String("now", "", "pretend the time is this (YYYY-MM-DD or RFC 3339), for rehearsals (default: $OMBUD_NOW, else the real time)")
	agent := fs.String("agent", "Agent", "the agent's name on the desk")
	deskLang := fs.String("desk-lang", "en", "the language of the agents' desk: sv, da or en")
	chatID := fs.String("chat", "local", "conversation id within the data directory")
	dir := fs.String("policies", "", "policy folder (default: $OMBUD_POLICIES_DIR, else the embedded policies)")
	rest, code, ok := parseFlags(env, fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		return usageError(env, fs, "unexpected argument %q", rest[0])
	}
	clock, err := chatClock(env, *now)
	if err != nil {
		return usageError(env, fs, "--now: %v", err)
	}
	if *lang == "" {
		*lang = strings.SplitN(env.Getenv("LANG"), ".", 2)[0]
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	reg, err := newRegistry(env, *dir, log)
	if err != nil {
		fmt.Fprintf(env.Stderr, "ombud chat: the policies have errors; run ombud policy check\n%v\n", err)
		return exitProblems
	}
	if *issuer != "" {
		if _, ok := reg.Current().Get(*issuer); !ok {
			return usageError(env, fs, "unknown issuer %q (known: %s)", *issuer, strings.Join(reg.Current().IDs(), ", "))
		}
	}
	catalog, err := locales.New()
	if err != nil {
		fmt.Fprintf(env.Stderr, "ombud chat: %v\n", err)
		return exitProblems
	}
	if !slices.Contains(catalog.Languages(), *deskLang) {
		return usageError(env, fs, "--desk-lang: %q; want one of %s", *deskLang, strings.Join(catalog.Languages(), ", "))
	}
	key, err := encryptionKey(env)
	if err != nil {
		return usageError(env, fs, "%v", err)
	}
	st, err := store.Open(*data, store.Options{Logger: log, Now: clock, EncryptionKey: key})
	if err != nil {
		fmt.Fprintf(env.Stderr, "ombud chat: %v\n", err)
		return exitProblems
	}
	defer st.Close()

	width, _ := strconv.Atoi(env.Getenv("COLUMNS"))
	chat := &console.Chat{In: env.Stdin, Out: env.Stdout, ChatID: *chatID, Issuer: *issuer, Lang: *lang, Agent: *agent,
		ExportDir: filepath.Clean(*data) + "-exports", Echo: !isTerminal(env.Stdin), Width: width}
	engine := &dialog.Engine{Policies: reg.Current, Catalog: catalog, DeskLang: func(string) string { return *deskLang }}
	chat.Service = &bot.Service{Store: st, Engine: engine, Log: log, Now: clock, Agents: chat.AgentSender(),
		Consumers: map[string]bot.Sender{console.Channel: chat.ConsumerSender()}}
	if err := chat.Run(ctx); err != nil {
		fmt.Fprintf(env.Stderr, "ombud chat: %v\n", err)
		return exitProblems
	}
	return exitOK
}

// isTerminal reports whether r is typed at a terminal, which echoes what
// is typed itself.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// newRegistry serves the policy folder named by the flag or
// OMBUD_POLICIES_DIR, else the embedded policies.
func newRegistry(env *Env, dirFlag string, log *slog.Logger) (*registry.Registry, error) {
	if dir := policiesDir(env, dirFlag); dir != "" {
		return registry.NewDir(dir, log)
	}
	return registry.NewBundled(log)
}

// chatClock is the clock a chat runs on: fixed at now (or $OMBUD_NOW) for
// rehearsals, else the real one.
func chatClock(env *Env, now string) (func() time.Time, error) {
	if now == "" {
		now = env.Getenv("OMBUD_NOW")
	}
	if now == "" {
		return env.Now, nil
	}
	t, err := parseInstant(now, time.Time{}, time.UTC)
	if err != nil {
		return nil, err
	}
	return console.Clock(t), nil
}
