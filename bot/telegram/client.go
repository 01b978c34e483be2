// Package telegram is Ombud's Telegram adapter and the only importer of
// github.com/go-telegram/bot. It turns updates into dialog inputs, makes
// them durable before Telegram is told they arrived (long polling with a
// stored offset, or a webhook that checks its secret), and sends outputs
// paced to Telegram's limits, honouring retry_after.
//
// go-telegram/bot confirms updates before its handlers run, so the
// getUpdates loop is ours; the library builds the send requests, keyboards
// and models.
package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"golang.org/x/time/rate"

	"ombud/bot"
)

// Channel is the consumer channel name of Telegram conversations.
const Channel = "telegram"

// DefaultAPIURL is Telegram's own Bot API server.
const DefaultAPIURL = "https://api.telegram.org"

// DefaultGlobalRate is the bot's pace across all chats. Telegram allows
// 30 messages a second; sends leave on a steady schedule but arrive with
// network jitter, and at exactly 30 a second two of them arriving close
// together put 31 into one second.
const DefaultGlobalRate = 28

// Config configures a Client.
type Config struct {
	Token  string
	APIURL string // DefaultAPIURL if empty; a self-hosted Bot API server or a test fake otherwise
	Log    *slog.Logger
	Store  bot.Inbox
	// Wake is called after inputs are queued, so the service handles them
	// at once.
	Wake func()
	// GlobalRate is messages per second across all chats; 0 means
	// DefaultGlobalRate.
	GlobalRate float64
	// ChatRate is messages per second to one chat; 0 means 1, with
	// ChatBurst (0 means 3) allowed at once.
	ChatRate  float64
	ChatBurst int
	// PollTimeout is the long-poll wait of getUpdates; 0 means 25 s.
	PollTimeout time.Duration
}

// Client talks to one bot.
type Client struct {
	cfg  Config
	api  *tgbot.Bot
	http *http.Client
	log  *slog.Logger

	global *rate.Limiter

	mu          sync.Mutex
	chats       map[int64]*chatPace
	pausedUntil time.Time // a 429 stops every send of the bot until then

	// life ends with Close; the best-effort calls made on the side
	// (callback answers) run under it and are counted in background.
	life       context.Context
	end        context.CancelFunc
	background sync.WaitGroup
}

// chatPace paces one chat; idle ones are forgotten, so an idle chat costs
// no memory.
type chatPace struct {
	limiter *rate.Limiter
	used    time.Time
}

// New prepares a client; it makes no call. Check verifies the token.
func New(cfg Config) (*Client, error) {
	if cfg.Token == "" {
		return nil, errors.New("telegram: no bot token")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	if cfg.GlobalRate <= 0 {
		cfg.GlobalRate = DefaultGlobalRate
	}
	if cfg.ChatRate <= 0 {
		cfg.ChatRate = 1
	}
	if cfg.ChatBurst <= 0 {
		cfg.ChatBurst = 3
	}
	if cfg.PollTimeout <= 0 {
		cfg.PollTimeout = 25 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Wake == nil {
		cfg.Wake = func() {}
	}
	// The client's timeout must outlast a long poll.
	httpClient := &http.Client{Timeout: cfg.PollTimeout + 15*time.Second}
	api, err := tgbot.New(cfg.Token,
		tgbot.WithServerURL(cfg.APIURL),
		tgbot.WithSkipGetMe(),
		tgbot.WithHTTPClient(cfg.PollTimeout, httpClient),
		tgbot.WithErrorsHandler(func(err error) { cfg.Log.Warn("telegram library", "err", redact(err.Error(), cfg.Token)) }),
	)
	if err != nil {
		return nil, fmt.Errorf("telegram: %s", redact(err.Error(), cfg.Token))
	}
	life, end := context.WithCancel(context.Background())
	return &Client{
		cfg: cfg, api: api, http: httpClient, log: cfg.Log, life: life, end: end,
		// No burst: the overall limit must hold in every second, not only
		// on average, so sends are spread evenly.
		global: rate.NewLimiter(rate.Limit(cfg.GlobalRate), 1),
		chats:  map[int64]*chatPace{},
	}, nil
}

// Close stops the calls the client makes on the side and waits for them.
func (c *Client) Close() {
	c.end()
	c.background.Wait()
}

// Check asks Telegram who the bot is, so a wrong token fails at start with
// a clear message.
func (c *Client) Check(ctx context.Context) (*models.User, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	me, err := c.api.GetMe(ctx)
	if errors.Is(err, tgbot.ErrorUnauthorized) || errors.Is(err, tgbot.ErrorNotFound) {
		return nil, errors.New("telegram: the bot token was refused (401); check TELEGRAM_BOT_TOKEN")
	}
	if err != nil {
		return nil, fmt.Errorf("telegram: getMe: %w", c.redacted(err))
	}
	return me, nil
}

// redact removes the token from a message: it is part of every API URL.
func redact(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "***")
}

// redactedError is an error with the bot token taken out of its text. It
// keeps the error it came from, so errors.Is and errors.As still see what
// Telegram answered; only its text is ever shown.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redacted is err without the bot token in its text; nil stays nil.
func (c *Client) redacted(err error) error {
	if err == nil {
		return nil
	}
	return &redactedError{msg: redact(err.Error(), c.cfg.Token), err: err}
}
