// Package slack is Ombud's agent desk on Slack and the only importer of
// github.com/slack-go/slack. Each case is one thread in its issuer's
// channel: a root message with the case at a glance and buttons, kept
// current with chat.update; what agents write in the thread reaches the
// consumer, except internal notes. Requests from Slack are verified before
// anything is parsed and stored before they are acknowledged.
package slack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackutilsx"
	"golang.org/x/time/rate"

	"ombud/bot"
	"ombud/dialog"
	"ombud/locales"
)

// Reference kinds in the store.
const (
	refThread = "slack.thread" // case id -> "<channel> <ts>" of its root message
	refCase   = "slack.case"   // "<channel> <ts>" -> case id
	refFiles  = "slack.files"  // case id -> space-separated ids of files copied into its thread
)

// Config configures a Client.
type Config struct {
	Token  string
	APIURL string // https://slack.com/api/ if empty; must end in a slash
	// SigningSecret verifies requests to /slack/events and /slack/interactions.
	SigningSecret string
	// Desks maps issuers to their channel and its language; DefaultDesk
	// takes the rest.
	Desks       map[string]Desk
	DefaultDesk Desk
	// Inbox takes agents' replies and actions; Refs keeps the threads.
	Inbox bot.Inbox
	Refs  bot.Refs
	// View is a case as its desk shows it (dialog.Engine.CaseView), or an
	// error wrapping bot.ErrNotFound if there is no such case.
	View func(caseID string) (dialog.CaseView, error)
	// Catalog words what the desk lays out around the view: field names,
	// buttons, forms.
	Catalog *locales.Catalog
	Now     func() time.Time
	Log     *slog.Logger
	// Wake is called after inputs are stored.
	Wake func()
	// ChannelRate is messages per second per channel; 0 means 1.
	ChannelRate float64
	// HeaderEvery is how often one case's header is redrawn at most; 0
	// means 5 s.
	HeaderEvery time.Duration
	// TierScale multiplies Slack's per-method rates, for tests against a
	// fake; 0 means 1, Slack's own.
	TierScale float64
	// Files opens a consumer's file by channel and file id, to copy it
	// into the case's thread; nil posts the file's name only.
	Files func(ctx context.Context, channel, fileID string) (io.ReadCloser, int64, error)
}

// Client is the Slack desk.
type Client struct {
	cfg Config
	api *slack.Client
	log *slog.Logger

	mu       sync.Mutex
	channels map[string]*rate.Limiter
	users    map[string]string // user id -> display name
	tries    map[string]bool   // outbox ids posted by this process
	methods  map[string]*rate.Limiter
	held     map[string]time.Time // a method's Retry-After, until when
	headers  map[string]*headerState
	notCases map[string]bool // "<channel> <ts>" of threads that belong to no case
	botID    string

	// life ends with Close; background work (header redraws) stops with
	// it, and background counts what is still running.
	life       context.Context
	end        context.CancelFunc
	background sync.WaitGroup
}

// New prepares a client; it makes no call.
func New(cfg Config) (*Client, error) {
	if cfg.Token == "" {
		return nil, errors.New("slack: no bot token")
	}
	if cfg.DefaultDesk.Channel == "" && len(cfg.Desks) == 0 {
		return nil, errors.New("slack: set SLACK_CHANNEL or SLACK_CHANNELS (issuer=channel-id,...)")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = slack.APIURL
	}
	if !strings.HasSuffix(cfg.APIURL, "/") {
		cfg.APIURL += "/"
	}
	if cfg.ChannelRate <= 0 {
		cfg.ChannelRate = 1
	}
	if cfg.HeaderEvery <= 0 {
		cfg.HeaderEvery = 5 * time.Second
	}
	if cfg.TierScale <= 0 {
		cfg.TierScale = 1
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Wake == nil {
		cfg.Wake = func() {}
	}
	life, end := context.WithCancel(context.Background())
	return &Client{
		cfg: cfg, log: cfg.Log,
		api:      slack.New(cfg.Token, slack.OptionAPIURL(cfg.APIURL)),
		channels: map[string]*rate.Limiter{},
		users:    map[string]string{},
		life:     life, end: end,
	}, nil
}

// Close stops the client's background work and waits for it. Header
// redraws not yet done are dropped: the next change to the case, or the
// next day's refresh, redraws it.
func (c *Client) Close() {
	c.end()
	c.background.Wait()
}

// Desk is where an issuer's cases go, and the language the desk is
// written in ("" is English).
type Desk struct {
	Channel string
	Lang    string
}

// ParseDesk reads one desk: a channel id, with ":lang" to choose its
// language, such as "C0123:sv".
func ParseDesk(s string) (Desk, error) {
	channel, lang, _ := strings.Cut(strings.TrimSpace(s), ":")
	d := Desk{Channel: strings.TrimSpace(channel), Lang: strings.TrimSpace(lang)}
	if d.Channel == "" {
		return Desk{}, fmt.Errorf("slack: %q names no channel id", s)
	}
	return d, nil
}

// ParseDesks reads SLACK_CHANNELS: "amex-se=C0123:sv,klarna-dk=C0456:da",
// each issuer's channel with an optional desk language.
func ParseDesks(s string) (map[string]Desk, error) {
	out := map[string]Desk{}
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		issuer, desk, ok := strings.Cut(pair, "=")
		d, err := ParseDesk(desk)
		if !ok || strings.TrimSpace(issuer) == "" || err != nil {
			return nil, fmt.Errorf("slack: %q is not issuer=channel-id or issuer=channel-id:lang", pair)
		}
		out[strings.TrimSpace(issuer)] = d
	}
	return out, nil
}

// Check verifies the token (auth.test) and learns the bot's own id, so its
// messages are never taken for an agent's.
func (c *Client) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := c.api.AuthTestContext(ctx)
	if err != nil {
		return fmt.Errorf("slack: auth.test: %w (check SLACK_BOT_TOKEN)", err)
	}
	c.mu.Lock()
	c.botID = resp.BotID
	c.mu.Unlock()
	return nil
}

// deskFor is the desk of an issuer's cases.
func (c *Client) deskFor(issuer string) Desk {
	if d, ok := c.cfg.Desks[issuer]; ok {
		return d
	}
	return c.cfg.DefaultDesk
}

// channelFor is the channel of an issuer's cases.
func (c *Client) channelFor(issuer string) string { return c.deskFor(issuer).Channel }

// langOfChannel is the language of the desk a channel belongs to.
func (c *Client) langOfChannel(channel string) string {
	for _, d := range c.cfg.Desks {
		if d.Channel == channel {
			return d.Lang
		}
	}
	return c.cfg.DefaultDesk.Lang
}

// words is the desk's catalog in lang, English if lang is empty.
func (c *Client) words(lang string) *locales.Printer {
	if lang == "" {
		lang = "en"
	}
	return c.cfg.Catalog.Printer(lang)
}

// allowed reports whether a channel is one of the desk's: actions from
// anywhere else do not count.
func (c *Client) allowed(channel string) bool {
	if channel == c.cfg.DefaultDesk.Channel && channel != "" {
		return true
	}
	for _, d := range c.cfg.Desks {
		if d.Channel == channel {
			return true
		}
	}
	return false
}

// displayName is how an agent is shown to the consumer: their Slack
// display name, looked up once.
func (c *Client) displayName(ctx context.Context, userID string) string {
	c.mu.Lock()
	name, ok := c.users[userID]
	c.mu.Unlock()
	if ok {
		return name
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var u *slack.User
	err := c.call(ctx, "users.info", func() (err error) { u, err = c.api.GetUserInfoContext(ctx, userID); return err })
	if err != nil {
		c.log.Warn("slack users.info", "user", userID, "err", err)
		return "" // the dialog names an unnamed agent in the consumer's language
	}
	name = u.Profile.DisplayName
	if name == "" {
		name = u.RealName
	}
	if name == "" {
		name = u.Name
	}
	c.mu.Lock()
	c.users[userID] = name
	c.mu.Unlock()
	return name
}

// escape neutralises what Slack reads as markup in text we did not write:
// with &, < and > escaped, no consumer can ping @channel, mention a user or
// fake a link.
func escape(s string) string { return slackutilsx.EscapeMessage(s) }

// unescape turns Slack's entities back into the characters typed.
func unescape(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// slackMarkup is one of Slack's angle-bracket tokens in a message: a link,
// a mention of a person or a channel, or a special mention.
var slackMarkup = regexp.MustCompile(`<([^<>]*)>`)

// plain turns an agent's Slack message into the text a consumer reads: a
// link becomes "label (address)", a person's mention their display name,
// a channel's its name, and @here, @channel and @everyone go; the
// entities &amp; &lt; &gt; are turned back last, so that text the agent
// typed between angle brackets stays as typed.
func (c *Client) plain(ctx context.Context, text string) string {
	text = slackMarkup.ReplaceAllStringFunc(text, func(token string) string {
		inner := token[1 : len(token)-1]
		target, label, labelled := strings.Cut(inner, "|")
		switch {
		case strings.HasPrefix(target, "@U"), strings.HasPrefix(target, "@W"):
			if labelled {
				return label
			}
			return c.displayName(ctx, target[1:])
		case strings.HasPrefix(target, "#C"), strings.HasPrefix(target, "#G"):
			if labelled {
				return "#" + label
			}
			return "#" + target[1:]
		case strings.HasPrefix(target, "!"):
			if labelled && !strings.HasPrefix(target, "!here") && !strings.HasPrefix(target, "!channel") && !strings.HasPrefix(target, "!everyone") {
				return label // a user group's or a date's readable form
			}
			return ""
		case strings.HasPrefix(target, "mailto:"):
			return strings.TrimPrefix(target, "mailto:")
		case labelled && label != target:
			return label + " (" + target + ")"
		}
		return target
	})
	// A dropped mention leaves a double space; line breaks stay.
	return strings.TrimSpace(doubleSpace.ReplaceAllString(unescape(text), " "))
}

var doubleSpace = regexp.MustCompile(`[ \t]{2,}`)
