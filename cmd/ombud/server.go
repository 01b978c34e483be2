package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
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
	"ombud/policies/registry"
	"ombud/store"
)

// server is ombud serve: the HTTP server, the store, the service and its
// platforms, started in order and stopped in the reverse.
type server struct {
	cfg     serveConfig
	env     *Env
	log     *slog.Logger
	reg     *registry.Registry
	catalog *locales.Catalog

	mux  *http.ServeMux
	http *http.Server
	ln   net.Listener

	st      *store.Store
	svc     *bot.Service
	tg      *telegram.Client
	desk    *slackdesk.Client // nil without Slack
	metrics *metrics.Metrics

	ready, waitingForSpace atomic.Bool
	opened                 atomic.Pointer[store.Store]
	closers                []func() // run in reverse by close
}

// serve runs until ctx ends, then stops in order: intake first, then the
// turns in flight and a last relay pass, then the store.
func serve(ctx context.Context, env *Env, cfg serveConfig, log *slog.Logger) error {
	s, err := newServer(env, cfg, log)
	if err != nil {
		return err
	}
	// HTTP comes up first, so /healthz answers while the store waits for
	// disk space, and /readyz says why it is not ready yet.
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	defer wg.Wait() // last: close ends the HTTP server
	defer s.close()
	wg.Go(func() {
		if err := s.http.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs <- fmt.Errorf("http: %w", err)
		}
	})
	log.Info("http listening", "addr", s.ln.Addr().String())
	if err := s.open(ctx); err != nil || s.st == nil {
		return err // no store and no error: stopped while waiting for space
	}
	if err := s.connect(ctx); err != nil {
		return err
	}
	s.routes()
	return s.run(ctx, errs)
}

// newServer loads the policies and the catalogs and listens, with the
// health checks routed.
func newServer(env *Env, cfg serveConfig, log *slog.Logger) (*server, error) {
	reg, err := newRegistry(env, cfg.PoliciesDir, log)
	if err != nil {
		return nil, fmt.Errorf("the policies have errors; run ombud policy check:\n%w", err)
	}
	catalog, err := locales.New()
	if err != nil {
		return nil, err
	}
	s := &server{cfg: cfg, env: env, log: log, reg: reg, catalog: catalog, mux: http.NewServeMux()}
	s.mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	s.mux.HandleFunc("/readyz", s.readyz)
	s.ln, err = net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	s.http = &http.Server{Handler: s.mux, ReadHeaderTimeout: 10 * time.Second}
	s.closers = append(s.closers, func() { s.http.Close() }) // a stop shuts it down gently first
	return s, nil
}

func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	if st := s.opened.Load(); s.waitingForSpace.Load() || st != nil && st.Space().Full {
		http.Error(w, "not ready: the data disk is full", http.StatusServiceUnavailable)
		return
	}
	if !s.ready.Load() {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ready")
}

// close releases what was opened, the last first: the desk and Telegram
// before the store they read.
func (s *server) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// open opens the store, waiting while its disk is full: a process that
// exits instead is restarted into the same full disk again and again,
// answering no health check meanwhile. It returns with no store and no
// error when ctx ends first.
func (s *server) open(ctx context.Context) error {
	opts := store.Options{Logger: s.log, Now: s.env.Now, EncryptionKey: s.cfg.EncryptionKey, Reserve: s.cfg.DiskReserve}
	var told time.Time
	for {
		st, err := store.Open(s.cfg.DataDir, opts)
		if !errors.Is(err, store.ErrDiskFull) {
			s.waitingForSpace.Store(false)
			if err != nil {
				return err
			}
			s.st = st
			s.opened.Store(st)
			s.closers = append(s.closers, func() {
				if err := st.Close(); err != nil {
					s.log.Error("close store", "err", err)
				}
			})
			return nil
		}
		s.waitingForSpace.Store(true)
		if time.Since(told) >= diskFullReminder {
			s.log.Error("the data disk is full; waiting for space before starting", "err", err)
			told = time.Now()
		}
		select {
		case <-ctx.Done():
			return nil
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

// connect builds the service over the store and connects its platforms:
// Telegram, and Slack if configured.
func (s *server) connect(ctx context.Context) error {
	engine := &dialog.Engine{Policies: s.reg.Current, Catalog: s.catalog, ReminderWorkingDays: s.cfg.ReminderDays, DeskLang: s.cfg.deskLang}
	s.metrics = metrics.New(s.st)
	s.svc = &bot.Service{Store: s.st, Engine: engine, Log: s.log, Now: s.env.Now, Agents: logDesk{s.log}, Observe: s.metrics}
	tg, err := telegram.New(telegram.Config{
		Token: s.cfg.TelegramToken, APIURL: s.cfg.TelegramAPI, Log: s.log, Store: s.st, Wake: s.svc.Wake,
		GlobalRate: s.cfg.TelegramRate, ChatRate: s.cfg.ChatRate,
	})
	if err != nil {
		return err
	}
	s.tg = tg
	s.closers = append(s.closers, tg.Close)
	s.svc.Consumers = map[string]bot.Sender{telegram.Channel: tg}
	if s.cfg.SlackToken != "" {
		if err := s.connectSlack(ctx, engine); err != nil {
			return err
		}
	}
	me, err := tg.Check(ctx)
	if err != nil {
		return err
	}
	s.log.Info("telegram bot ready", "username", me.Username)
	if err := tg.SetCommands(ctx, s.catalog); err != nil {
		s.log.Warn("command menu not set", "err", err)
	}
	s.watchReloads(ctx)
	return nil
}

func (s *server) connectSlack(ctx context.Context, engine *dialog.Engine) error {
	desk, err := slackdesk.New(slackdesk.Config{
		Token: s.cfg.SlackToken, APIURL: s.cfg.SlackAPI, SigningSecret: s.cfg.SlackSigningSecret,
		Desks: s.cfg.SlackDesks, DefaultDesk: s.cfg.SlackDesk, Catalog: s.catalog,
		View:  caseViews(s.st, engine, s.env.Now),
		Inbox: s.st, Refs: s.st, Now: s.env.Now, Log: s.log, Wake: s.svc.Wake, HeaderEvery: s.cfg.SlackHeaderEvery,
		Files: func(ctx context.Context, channel, fileID string) (io.ReadCloser, int64, error) {
			if channel != telegram.Channel {
				return nil, 0, fmt.Errorf("%w: no files from channel %q", bot.ErrUndeliverable, channel)
			}
			return s.tg.Download(ctx, fileID)
		},
	})
	if err != nil {
		return err
	}
	s.closers = append(s.closers, desk.Close) // before the store closes
	if err := desk.Check(ctx); err != nil {
		return err
	}
	s.desk = desk
	s.svc.Agents = desk
	s.log.Info("slack agent desk ready")
	return nil
}

// watchReloads counts policy reloads, refuses one that would drop an
// issuer with open cases, and tells the operations channel of a refusal.
func (s *server) watchReloads(ctx context.Context) {
	s.reg.OpenCases = func(issuer string) (int, error) {
		// Only when a reload removes an issuer: a scan is affordable.
		n := 0
		err := s.st.Complaints(func(c dialog.Complaint) error {
			if c.Issuer == issuer && c.Status != dialog.CaseClosed {
				n++
			}
			return nil
		})
		return n, err
	}
	var lastRefusal string
	s.reg.OnReload = func(_ *policies.Set, err error) {
		s.metrics.Reload(err == nil)
		if err == nil {
			lastRefusal = ""
			return
		}
		// Tell the operations channel once per distinct problem, not on
		// every save of the same broken file.
		if s.desk != nil && s.cfg.SlackOpsChannel != "" && err.Error() != lastRefusal {
			msg := "Ombud refused a policy change and keeps the last good policies:\n" + err.Error()
			if perr := s.desk.PostOps(ctx, s.cfg.SlackOpsChannel, msg); perr != nil {
				s.log.Warn("could not post to the operations channel", "err", perr)
			}
		}
		lastRefusal = err.Error()
	}
}

// routes adds what the service serves over HTTP once it runs: metrics,
// webhooks, and the register and backups for operators.
func (s *server) routes() {
	s.mux.Handle("/metrics", s.metrics.Handler())
	if s.cfg.WebhookURL != "" {
		s.mux.Handle("/telegram/webhook", s.tg.WebhookHandler(s.cfg.WebhookSecret))
	}
	// The register and backups hold personal data. They are served only
	// with OMBUD_ADMIN_TOKEN set: a reverse proxy on this machine makes
	// every outside request look local, so "loopback only" protects nothing.
	if s.cfg.AdminToken != "" {
		s.mux.Handle("/admin/complaints", adminOnly(s.cfg.AdminToken, http.HandlerFunc(s.adminComplaints)))
		s.mux.Handle("/admin/backup", adminOnly(s.cfg.AdminToken, http.HandlerFunc(s.adminBackup)))
	}
	if s.desk != nil && s.cfg.SlackSigningSecret != "" {
		s.mux.Handle("/slack/events", s.desk.EventsHandler())
		s.mux.Handle("/slack/interactions", s.desk.InteractionsHandler())
	}
}

func (s *server) adminComplaints(w http.ResponseWriter, r *http.Request) {
	all := []dialog.Complaint{}
	if err := s.st.Complaints(func(c dialog.Complaint) error { all = append(all, c); return nil }); err != nil {
		http.Error(w, "register unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(all)
}

func (s *server) adminBackup(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/octet-stream")
	if err := s.st.Backup(w); err != nil {
		s.log.Error("backup failed", "err", err)
	}
}

// run starts the service and the intake, reports ready, and waits for ctx
// or a failure; then it stops intake first and the service after it, so
// turns already queued are finished and relayed.
func (s *server) run(ctx context.Context, errs chan error) error {
	intake, stopIntake := context.WithCancel(context.Background())
	defer stopIntake()
	work, stopWork := context.WithCancel(context.Background())
	defer stopWork()

	var wg sync.WaitGroup
	serviceDone := make(chan struct{})
	wg.Go(func() {
		defer close(serviceDone)
		s.svc.Run(work, bot.RunOptions{FlushTimeout: s.cfg.ShutdownBudget / 3})
	})
	wg.Go(func() {
		if err := s.reg.Watch(intake, 200*time.Millisecond); err != nil {
			s.log.Error("policy watch stopped", "err", err)
		}
	})
	s.startIntake(ctx, intake, &wg, errs)
	s.ready.Store(true)

	var runErr error
	select {
	case <-ctx.Done():
		s.log.Info("stopping")
	case runErr = <-errs:
	}
	s.ready.Store(false)
	stopped := time.Now()
	stopIntake()
	shutdown, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownBudget/3)
	s.http.Shutdown(shutdown)
	cancel()
	stopWork()
	select {
	case <-serviceDone:
	case <-time.After(s.cfg.ShutdownBudget):
		s.log.Error("service did not stop in time")
	}
	wg.Wait()
	s.log.Info("stopped", "took", time.Since(stopped).Round(time.Millisecond))
	return runErr
}

// startIntake starts what brings inputs in: Socket Mode, and Telegram's
// webhook or long polling.
func (s *server) startIntake(ctx, intake context.Context, wg *sync.WaitGroup, errs chan<- error) {
	if s.desk != nil && s.cfg.SlackAppToken != "" {
		wg.Go(func() {
			if err := s.desk.RunSocketMode(intake, s.cfg.SlackAppToken); err != nil {
				errs <- err
			}
		})
		s.log.Info("slack socket mode")
	}
	if s.cfg.WebhookURL != "" {
		if err := s.tg.SetWebhook(ctx, s.cfg.WebhookURL, s.cfg.WebhookSecret); err != nil {
			errs <- err
			return
		}
		s.log.Info("telegram webhook mode", "url", s.cfg.WebhookURL)
		return
	}
	wg.Go(func() {
		if err := s.tg.Poll(intake); err != nil {
			errs <- err
		}
	})
	s.log.Info("telegram long polling")
}

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

// languages are the catalogs' languages.
func languages() ([]string, error) {
	catalog, err := locales.New()
	if err != nil {
		return nil, err
	}
	return catalog.Languages(), nil
}
