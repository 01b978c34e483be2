package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"ombud/bot"
	"ombud/bot/metrics"
	slackdesk "ombud/bot/slack"
	"ombud/bot/telegram"
	"ombud/dialog"
	"ombud/locales"
	"ombud/policies"
	"ombud/store"
)

// serveConfig is everything ombud serve reads from flags and the
// environment. Tokens and secrets come from the environment only.
type serveConfig struct {
	DataDir       string
	PoliciesDir   string
	HTTPAddr      string
	EncryptionKey []byte

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

func runServe(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "serve", "[--data DIR] [--http ADDR] [--policies DIR]",
		"Runs Ombud for real: Telegram for consumers (long polling, or a webhook when\n"+
			"TELEGRAM_WEBHOOK_URL is set), the deadline scheduler, and an HTTP server with\n"+
			"/healthz, /readyz and the webhook. Tokens come from the environment:\n"+
			"  TELEGRAM_BOT_TOKEN (required), TELEGRAM_API_URL, TELEGRAM_WEBHOOK_URL, TELEGRAM_WEBHOOK_SECRET,\n"+
			"  SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET or SLACK_APP_TOKEN (Socket Mode), SLACK_CHANNEL or\n"+
			"  SLACK_CHANNELS, SLACK_API_URL,\n"+
			"  OMBUD_ENCRYPTION_KEY (hex or base64, 16, 24 or 32 bytes).")
	cfg := serveConfig{}
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
	rest, code, ok := parseFlags(env, fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		return usageError(env, fs, "unexpected argument %q", rest[0])
	}
	cfg.TelegramToken = env.Getenv("TELEGRAM_BOT_TOKEN")
	cfg.SlackToken = env.Getenv("SLACK_BOT_TOKEN")
	cfg.SlackAPI = env.Getenv("SLACK_API_URL")
	cfg.SlackSigningSecret = env.Getenv("SLACK_SIGNING_SECRET")
	cfg.SlackAppToken = env.Getenv("SLACK_APP_TOKEN")
	cfg.SlackOpsChannel = env.Getenv("SLACK_OPS_CHANNEL")
	if v := env.Getenv("SLACK_CHANNEL"); v != "" {
		d, err := slackdesk.ParseDesk(v)
		if err != nil {
			return usageError(env, fs, "SLACK_CHANNEL: %v", err)
		}
		cfg.SlackDesk = d
	}
	if v := env.Getenv("SLACK_CHANNELS"); v != "" {
		desks, err := slackdesk.ParseDesks(v)
		if err != nil {
			return usageError(env, fs, "SLACK_CHANNELS: %v", err)
		}
		cfg.SlackDesks = desks
	}
	catalog, err := locales.New()
	if err != nil {
		return usageError(env, fs, "%v", err)
	}
	for _, d := range append(slices.Collect(maps.Values(cfg.SlackDesks)), cfg.SlackDesk) {
		if d.Lang != "" && !slices.Contains(catalog.Languages(), d.Lang) {
			return usageError(env, fs, "Slack desk %s: language %q; want one of %s", d.Channel, d.Lang, strings.Join(catalog.Languages(), ", "))
		}
	}
	if cfg.SlackToken != "" && cfg.SlackDesk.Channel == "" && len(cfg.SlackDesks) == 0 {
		return usageError(env, fs, "SLACK_BOT_TOKEN is set, so say where cases go: SLACK_CHANNEL=C0123 or SLACK_CHANNELS=amex-se=C0123:sv,klarna-dk=C0456:da")
	}
	cfg.WebhookSecret = env.Getenv("TELEGRAM_WEBHOOK_SECRET")
	if cfg.TelegramToken == "" {
		fmt.Fprint(env.Stderr, `ombud serve needs a Telegram bot token.

  1. Talk to @BotFather on Telegram, send /newbot, and copy the token it gives.
  2. Run: TELEGRAM_BOT_TOKEN=123456:ABC... ombud serve

To try Ombud without a token, chat with it in the terminal:

  ombud chat
`)
		return exitUsage
	}
	if cfg.WebhookURL != "" && cfg.WebhookSecret == "" {
		return usageError(env, fs, "TELEGRAM_WEBHOOK_URL is set, so TELEGRAM_WEBHOOK_SECRET must be too (1-256 characters A-Z, a-z, 0-9, _ and -)")
	}
	cfg.DataDir = *data
	if *reserveMiB < 1 {
		return usageError(env, fs, "--disk-reserve must be at least 1 (MiB)")
	}
	cfg.DiskReserve = *reserveMiB << 20
	key, err := encryptionKey(env)
	if err != nil {
		return usageError(env, fs, "%v", err)
	}
	cfg.EncryptionKey = key
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := serve(ctx, env, cfg, log); err != nil {
		log.Error("ombud serve stopped", "err", err)
		return exitProblems
	}
	return exitOK
}

// serve runs until ctx ends, then stops in order: intake first, then the
// turns in flight and a last relay pass, then the store.
func serve(ctx context.Context, env *Env, cfg serveConfig, log *slog.Logger) error {
	reg, err := newRegistry(env, cfg.PoliciesDir, log)
	if err != nil {
		return fmt.Errorf("the policies have errors; run ombud policy check:\n%w", err)
	}
	catalog, err := locales.New()
	if err != nil {
		return err
	}

	// HTTP comes up first, so /healthz answers while the store waits for
	// disk space, and /readyz says why it is not ready yet.
	var ready, waitingForSpace atomic.Bool
	var opened atomic.Pointer[store.Store]
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if st := opened.Load(); waitingForSpace.Load() || st != nil && st.Space().Full {
			http.Error(w, "not ready: the data disk is full", http.StatusServiceUnavailable)
			return
		}
		if !ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	server := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	defer server.Close() // for the early returns; a stop shuts it down gently first
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs <- fmt.Errorf("http: %w", err)
		}
	}()
	log.Info("http listening", "addr", ln.Addr().String())

	st, err := openStore(ctx, env, cfg, log, &waitingForSpace)
	if err != nil || st == nil {
		return err // st is nil without an error when stopped while waiting
	}
	opened.Store(st)
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("close store", "err", err)
		}
	}()

	engine := &dialog.Engine{Policies: reg.Current, Catalog: catalog, ReminderWorkingDays: cfg.ReminderDays,
		DeskLang: func(issuer string) string {
			if d, ok := cfg.SlackDesks[issuer]; ok {
				return d.Lang
			}
			return cfg.SlackDesk.Lang
		}}
	svc := &bot.Service{
		Store:  st,
		Engine: engine,
		Log:    log,
		Now:    env.Now,
		Agents: logDesk{log},
	}
	tg, err := telegram.New(telegram.Config{
		Token: cfg.TelegramToken, APIURL: cfg.TelegramAPI, Log: log, Store: st, Wake: svc.Wake,
		GlobalRate: cfg.TelegramRate, ChatRate: cfg.ChatRate,
	})
	if err != nil {
		return err
	}
	defer tg.Close()
	svc.Consumers = map[string]bot.Sender{telegram.Channel: tg}
	observed := metrics.New(st)
	svc.Observe = observed
	var desk *slackdesk.Client
	if cfg.SlackToken != "" {
		desk, err = slackdesk.New(slackdesk.Config{
			Token: cfg.SlackToken, APIURL: cfg.SlackAPI, SigningSecret: cfg.SlackSigningSecret,
			Desks: cfg.SlackDesks, DefaultDesk: cfg.SlackDesk, Catalog: catalog,
			View:  caseViews(st, engine, env.Now),
			Inbox: st, Refs: st, Now: env.Now, Log: log, Wake: svc.Wake, HeaderEvery: cfg.SlackHeaderEvery,
			Files: func(ctx context.Context, channel, fileID string) (io.ReadCloser, int64, error) {
				if channel != telegram.Channel {
					return nil, 0, fmt.Errorf("%w: no files from channel %q", bot.ErrUndeliverable, channel)
				}
				return tg.Download(ctx, fileID)
			},
		})
		if err != nil {
			return err
		}
		defer desk.Close() // before the store closes: deferred calls run last in, first out
		if err := desk.Check(ctx); err != nil {
			return err
		}
		svc.Agents = desk
		log.Info("slack agent desk ready")
	}
	me, err := tg.Check(ctx)
	if err != nil {
		return err
	}
	log.Info("telegram bot ready", "username", me.Username)
	if err := tg.SetCommands(ctx, catalog); err != nil {
		log.Warn("command menu not set", "err", err)
	}

	reg.OpenCases = func(issuer string) (int, error) {
		// Only when a reload removes an issuer: a scan is affordable.
		n := 0
		err := st.Complaints(func(c dialog.Complaint) error {
			if c.Issuer == issuer && c.Status != dialog.CaseClosed {
				n++
			}
			return nil
		})
		return n, err
	}
	var lastRefusal string
	reg.OnReload = func(_ *policies.Set, err error) {
		observed.Reload(err == nil)
		if err == nil {
			lastRefusal = ""
			return
		}
		// Tell the operations channel once per distinct problem, not on
		// every save of the same broken file.
		if desk != nil && cfg.SlackOpsChannel != "" && err.Error() != lastRefusal {
			msg := "Ombud refused a policy change and keeps the last good policies:\n" + err.Error()
			if perr := desk.PostOps(ctx, cfg.SlackOpsChannel, msg); perr != nil {
				log.Warn("could not post to the operations channel", "err", perr)
			}
		}
		lastRefusal = err.Error()
	}

	mux.Handle("/metrics", observed.Handler())
	if cfg.WebhookURL != "" {
		mux.Handle("/telegram/webhook", tg.WebhookHandler(cfg.WebhookSecret))
	}
	// The register and backups hold personal data. They are served only
	// with OMBUD_ADMIN_TOKEN set: a reverse proxy on this machine makes
	// every outside request look local, so "loopback only" protects nothing.
	if adminToken := env.Getenv("OMBUD_ADMIN_TOKEN"); adminToken != "" {
		mux.Handle("/admin/complaints", adminOnly(adminToken, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var all []dialog.Complaint
			if err := st.Complaints(func(c dialog.Complaint) error { all = append(all, c); return nil }); err != nil {
				http.Error(w, "register unavailable", http.StatusInternalServerError)
				return
			}
			if all == nil {
				all = []dialog.Complaint{}
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(all)
		})))
		mux.Handle("/admin/backup", adminOnly(adminToken, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/octet-stream")
			if err := st.Backup(w); err != nil {
				log.Error("backup failed", "err", err)
			}
		})))
	}
	if desk != nil && cfg.SlackSigningSecret != "" {
		mux.Handle("/slack/events", desk.EventsHandler())
		mux.Handle("/slack/interactions", desk.InteractionsHandler())
	}
	// Intake stops first on shutdown; the service stops after it, so turns
	// already queued are finished and relayed.
	intake, stopIntake := context.WithCancel(context.Background())
	defer stopIntake()
	work, stopWork := context.WithCancel(context.Background())
	defer stopWork()

	wg.Add(1)
	serviceDone := make(chan struct{})
	go func() {
		defer wg.Done()
		defer close(serviceDone)
		svc.Run(work, bot.RunOptions{FlushTimeout: cfg.ShutdownBudget / 3})
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := reg.Watch(intake, 200*time.Millisecond); err != nil {
			log.Error("policy watch stopped", "err", err)
		}
	}()
	if desk != nil && cfg.SlackAppToken != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := desk.RunSocketMode(intake, cfg.SlackAppToken); err != nil {
				errs <- err
			}
		}()
		log.Info("slack socket mode")
	}
	if cfg.WebhookURL != "" {
		if err := tg.SetWebhook(ctx, cfg.WebhookURL, cfg.WebhookSecret); err != nil {
			errs <- err
		} else {
			log.Info("telegram webhook mode", "url", cfg.WebhookURL)
		}
	} else {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := tg.Poll(intake); err != nil {
				errs <- err
			}
		}()
		log.Info("telegram long polling")
	}
	ready.Store(true)

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("stopping")
	case runErr = <-errs:
	}
	ready.Store(false)
	stopped := time.Now()
	stopIntake()
	shutdown, cancel := context.WithTimeout(context.Background(), cfg.ShutdownBudget/3)
	server.Shutdown(shutdown)
	cancel()
	stopWork()
	select {
	case <-serviceDone:
	case <-time.After(cfg.ShutdownBudget):
		log.Error("service did not stop in time")
	}
	wg.Wait()
	log.Info("stopped", "took", time.Since(stopped).Round(time.Millisecond))
	return runErr
}

// openStore opens the store, waiting while its disk is full: a process
// that exits instead is restarted into the same full disk again and
// again, answering no health check meanwhile. It returns nil, nil when ctx
// ends first.
func openStore(ctx context.Context, env *Env, cfg serveConfig, log *slog.Logger, waiting *atomic.Bool) (*store.Store, error) {
	opts := store.Options{Logger: log, Now: env.Now, EncryptionKey: cfg.EncryptionKey, Reserve: cfg.DiskReserve}
	var told time.Time
	for {
		st, err := store.Open(cfg.DataDir, opts)
		if !errors.Is(err, store.ErrDiskFull) {
			waiting.Store(false)
			return st, err
		}
		waiting.Store(true)
		if time.Since(told) >= diskFullReminder {
			log.Error("the data disk is full; waiting for space before starting", "err", err)
			told = time.Now()
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-time.After(diskFullLook):
		}
	}
}

// While the disk is full at start, Ombud looks for space every
// diskFullLook and says it is waiting every diskFullReminder.
const (
	diskFullLook     = 2 * time.Second
	diskFullReminder = 5 * time.Minute
)

// caseViews reads a case and shows it as its desk does.
func caseViews(st bot.Store, engine *dialog.Engine, now func() time.Time) func(string) (dialog.CaseView, error) {
	return func(caseID string) (dialog.CaseView, error) {
		var c dialog.Complaint
		err := st.View(func(tx bot.Tx) (err error) {
			c, err = tx.Complaint(caseID)
			return err
		})
		if err != nil {
			return dialog.CaseView{}, err
		}
		return engine.CaseView(c, now()), nil
	}
}

// logDesk stands in for the agents' desk until Slack is configured: agent
// messages are logged, never silently dropped.
type logDesk struct{ log *slog.Logger }

func (d logDesk) Send(_ context.Context, out dialog.Output) error {
	if out.Notice == dialog.NoticeRedraw {
		return nil
	}
	d.log.Info("agent desk", "case", out.Case, "issuer", out.Issuer, "key", out.Key, "text", strings.ReplaceAll(out.Text, "\n", " | "))
	return nil
}

// adminOnly guards the register and backups: a request must bear the
// admin token, compared in constant time.
func adminOnly(token string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
