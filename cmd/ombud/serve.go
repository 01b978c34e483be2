package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	slackdesk "ombud/bot/slack"
	"ombud/bot/telegram"
	"ombud/store"
)

// serveConfig is everything ombud serve reads from flags and the
// environment, each with its default set once, in readServeConfig.
// Tokens and secrets come from the environment only.
type serveConfig struct {
	DataDir       string
	PoliciesDir   string
	HTTPAddr      string
	EncryptionKey []byte
	// AdminToken guards /admin/complaints and /admin/backup; empty serves
	// neither.
	AdminToken string

	TelegramToken string
	TelegramAPI   string
	WebhookURL    string
	WebhookSecret string
	TelegramRate  float64
	ChatRate      float64

	SlackToken         string
	SlackAPI           string
	SlackSigningSecret string
	SlackAppToken      string
	SlackDesk          slackdesk.Desk            // SLACK_CHANNEL: the desk of issuers not in SlackDesks
	SlackDesks         map[string]slackdesk.Desk // SLACK_CHANNELS: each issuer's desk
	SlackOpsChannel    string

	ReminderDays     int
	ShutdownBudget   time.Duration
	SlackHeaderEvery time.Duration
	// DiskReserve is the free space, in bytes, below which the store
	// stops writing and Ombud stops confirming messages.
	DiskReserve int64
}

// errNoToken: serve was started without a Telegram token.
var errNoToken = errors.New("no TELEGRAM_BOT_TOKEN")

// Validate reports the first thing in the configuration that cannot work,
// as a sentence that says what to set; languages are the catalogs'.
func (c serveConfig) Validate(languages []string) error {
	switch {
	case c.TelegramToken == "":
		return errNoToken
	case c.WebhookURL != "" && c.WebhookSecret == "":
		return errors.New("TELEGRAM_WEBHOOK_URL is set, so TELEGRAM_WEBHOOK_SECRET must be too (1-256 characters A-Z, a-z, 0-9, _ and -)")
	case c.SlackToken != "" && c.SlackDesk.Channel == "" && len(c.SlackDesks) == 0:
		return errors.New("SLACK_BOT_TOKEN is set, so say where cases go: SLACK_CHANNEL=C0123 or SLACK_CHANNELS=amex-se=C0123:sv,klarna-dk=C0456:da")
	case c.DiskReserve < 1<<20:
		return errors.New("--disk-reserve must be at least 1 (MiB)")
	}
	for _, d := range append(slices.Collect(maps.Values(c.SlackDesks)), c.SlackDesk) {
		if d.Lang != "" && !slices.Contains(languages, d.Lang) {
			return fmt.Errorf("Slack desk %s: language %q; want one of %s", d.Channel, d.Lang, strings.Join(languages, ", "))
		}
	}
	return nil
}

// deskLang is the language of an issuer's agents' desk.
func (c serveConfig) deskLang(issuer string) string {
	if d, ok := c.SlackDesks[issuer]; ok {
		return d.Lang
	}
	return c.SlackDesk.Lang
}

const serveAbout = "Runs Ombud for real: Telegram for consumers (long polling, or a webhook when\n" +
	"TELEGRAM_WEBHOOK_URL is set), the deadline scheduler, and an HTTP server with\n" +
	"/healthz, /readyz and the webhook. Tokens come from the environment:\n" +
	"  TELEGRAM_BOT_TOKEN (required), TELEGRAM_API_URL, TELEGRAM_WEBHOOK_URL, TELEGRAM_WEBHOOK_SECRET,\n" +
	"  SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET or SLACK_APP_TOKEN (Socket Mode), SLACK_CHANNEL or\n" +
	"  SLACK_CHANNELS, SLACK_API_URL,\n" +
	"  OMBUD_ENCRYPTION_KEY (hex or base64, 16, 24 or 32 bytes), OMBUD_ADMIN_TOKEN."

const noTokenHelp = `ombud serve needs a Telegram bot token.

  1. Talk to @BotFather on Telegram, send /newbot, and copy the token it gives.
  2. Run: TELEGRAM_BOT_TOKEN=123456:ABC... ombud serve

To try Ombud without a token, chat with it in the terminal:

  ombud chat
`

func runServe(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "serve", "[--data DIR] [--http ADDR] [--policies DIR]", serveAbout)
	cfg, flagsRead := serveFlags(fs, env)
	rest, code, ok := parseFlags(env, fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		return usageError(env, fs, "unexpected argument %q", rest[0])
	}
	if err := readServeEnv(env, cfg); err != nil {
		return usageError(env, fs, "%v", err)
	}
	flagsRead()
	catalogLangs, err := languages()
	if err != nil {
		return usageError(env, fs, "%v", err)
	}
	if err := cfg.Validate(catalogLangs); errors.Is(err, errNoToken) {
		fmt.Fprint(env.Stderr, noTokenHelp)
		return exitUsage
	} else if err != nil {
		return usageError(env, fs, "%v", err)
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := serve(ctx, env, *cfg, log); err != nil {
		log.Error("ombud serve stopped", "err", err)
		return exitProblems
	}
	return exitOK
}

// serveFlags declares serve's flags with their defaults. The returned
// function finishes the fields flags give indirectly, once they are parsed.
func serveFlags(fs *flag.FlagSet, env *Env) (*serveConfig, func()) {
	cfg := &serveConfig{}
	data := dataFlag(fs, env)
	fs.StringVar(&cfg.PoliciesDir, "policies", env.Getenv("OMBUD_POLICIES_DIR"), "policy folder, reloaded on change ($OMBUD_POLICIES_DIR; default: the embedded policies)")
	fs.StringVar(&cfg.HTTPAddr, "http", envOr(env, "OMBUD_HTTP_ADDR", "127.0.0.1:8080"), "listen address for webhooks and health checks ($OMBUD_HTTP_ADDR)")
	fs.StringVar(&cfg.TelegramAPI, "telegram-api", envOr(env, "TELEGRAM_API_URL", telegram.DefaultAPIURL), "Bot API base URL ($TELEGRAM_API_URL)")
	fs.StringVar(&cfg.WebhookURL, "webhook-url", env.Getenv("TELEGRAM_WEBHOOK_URL"), "public URL of /telegram/webhook; empty: long polling ($TELEGRAM_WEBHOOK_URL)")
	fs.Float64Var(&cfg.TelegramRate, "telegram-rate", telegram.DefaultGlobalRate, "messages per second to Telegram across all chats (Telegram allows 30; the margin absorbs network jitter)")
	fs.Float64Var(&cfg.ChatRate, "telegram-chat-rate", 1, "messages per second to one chat (short bursts of 3 allowed)")
	fs.IntVar(&cfg.ReminderDays, "reminder-days", 2, "remind agents this many working days before a deadline")
	fs.DurationVar(&cfg.ShutdownBudget, "shutdown", 8*time.Second, "how long a stop may take")
	fs.DurationVar(&cfg.SlackHeaderEvery, "slack-header-every", 5*time.Second, "how often one case's Slack header is redrawn at most")
	reserveMiB := fs.Int64("disk-reserve", store.DefaultReserve>>20, "MiB kept free on the data disk; below it Ombud stops confirming messages until space returns")
	return cfg, func() {
		cfg.DataDir = *data
		cfg.DiskReserve = *reserveMiB << 20
	}
}

// readServeEnv reads the tokens, secrets and Slack desks from the
// environment into cfg.
func readServeEnv(env *Env, cfg *serveConfig) error {
	cfg.TelegramToken = env.Getenv("TELEGRAM_BOT_TOKEN")
	cfg.WebhookSecret = env.Getenv("TELEGRAM_WEBHOOK_SECRET")
	cfg.SlackToken = env.Getenv("SLACK_BOT_TOKEN")
	cfg.SlackAPI = env.Getenv("SLACK_API_URL")
	cfg.SlackSigningSecret = env.Getenv("SLACK_SIGNING_SECRET")
	cfg.SlackAppToken = env.Getenv("SLACK_APP_TOKEN")
	cfg.SlackOpsChannel = env.Getenv("SLACK_OPS_CHANNEL")
	cfg.AdminToken = env.Getenv("OMBUD_ADMIN_TOKEN")
	if v := env.Getenv("SLACK_CHANNEL"); v != "" {
		d, err := slackdesk.ParseDesk(v)
		if err != nil {
			return fmt.Errorf("SLACK_CHANNEL: %w", err)
		}
		cfg.SlackDesk = d
	}
	if v := env.Getenv("SLACK_CHANNELS"); v != "" {
		desks, err := slackdesk.ParseDesks(v)
		if err != nil {
			return fmt.Errorf("SLACK_CHANNELS: %w", err)
		}
		cfg.SlackDesks = desks
	}
	key, err := encryptionKey(env)
	if err != nil {
		return err
	}
	cfg.EncryptionKey = key
	return nil
}
