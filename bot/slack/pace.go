package slack

import (
	"context"
	"errors"
	"time"

	"github.com/slack-go/slack"
	"golang.org/x/time/rate"
)

// Slack limits each Web API method by its tier, per workspace, and
// chat.postMessage per channel. A 429's Retry-After holds for every call of
// that method, including those waiting to go when it came.
// https://docs.slack.dev/apis/web-api/rate-limits

// methodTiers are the calls per minute of the methods Ombud uses.
var methodTiers = map[string]int{
	"chat.update":                  50,  // Tier 3
	"reactions.add":                50,  // Tier 3
	"conversations.history":        50,  // Tier 3
	"conversations.replies":        50,  // Tier 3
	"files.delete":                 50,  // Tier 3
	"files.getUploadURLExternal":   100, // Tier 4; the whole upload is paced by it
	"files.completeUploadExternal": 100, // Tier 4
	"users.info":                   100, // Tier 4
	"views.open":                   100, // Tier 4
	"chat.postMessage":             0,   // paced per channel instead
}

// methodBurst is how many calls of a method may go at once before the
// steady rate applies: a minute never sees more than its tier plus this.
const methodBurst = 3

// call runs one Web API call of method: it waits for the method's pace and
// for any Retry-After the method is under, and on a rate-limited answer
// holds every call of the method for the time Slack asked.
func (c *Client) call(ctx context.Context, method string, fn func() error) error {
	return c.callIn(ctx, method, "", fn)
}

// callIn is call for a method that posts into channel, which is paced by
// the channel's limit as well (chat.postMessage has no tier but that).
func (c *Client) callIn(ctx context.Context, method, channel string, fn func() error) error {
	if err := c.paceMethod(ctx, method, channel); err != nil {
		return err
	}
	return c.do(method, fn)
}

// do runs a call its caller has paced, and on a rate-limited answer holds
// every call of method for the time Slack asked.
func (c *Client) do(method string, fn func() error) error {
	err := fn()
	var limited *slack.RateLimitedError
	if errors.As(err, &limited) {
		c.holdMethod(method, max(limited.RetryAfter, time.Second))
	}
	return err
}

// paceMethod waits for any Retry-After on method, then for a place under
// the method's tier and the channel's limit. A call held by a Retry-After
// takes its places again when it ends: places taken before would all fall
// due at its end and go at once.
func (c *Client) paceMethod(ctx context.Context, method, channel string) error {
	var limits []*rate.Limiter
	if perMinute, ok := methodTiers[method]; !ok || perMinute > 0 {
		limits = append(limits, c.methodLimiter(method))
	}
	if channel != "" {
		limits = append(limits, c.channelLimiter(channel))
	}
	for {
		if err := c.waitHold(ctx, method); err != nil {
			return err
		}
		for _, lim := range limits {
			if err := lim.Wait(ctx); err != nil {
				return err
			}
		}
		if !c.isHeld(method) {
			return nil
		}
	}
}

// methodLimiter is method's tier as a limiter; a method not listed gets
// Tier 3.
func (c *Client) methodLimiter(method string) *rate.Limiter {
	c.mu.Lock()
	defer c.mu.Unlock()
	lim := c.methods[method]
	if lim == nil {
		perMinute := methodTiers[method]
		if perMinute <= 0 {
			perMinute = 50
		}
		lim = rate.NewLimiter(rate.Limit(float64(perMinute)/60*c.cfg.TierScale), methodBurst)
		if c.methods == nil {
			c.methods = map[string]*rate.Limiter{}
		}
		c.methods[method] = lim
	}
	return lim
}

// channelLimiter is a channel's posting limit: about one message a second,
// with short bursts.
func (c *Client) channelLimiter(channel string) *rate.Limiter {
	c.mu.Lock()
	defer c.mu.Unlock()
	lim, ok := c.channels[channel]
	if !ok {
		lim = rate.NewLimiter(rate.Limit(c.cfg.ChannelRate), 3)
		c.channels[channel] = lim
	}
	return lim
}

// waitHold returns when no Retry-After holds method, or ctx ends.
func (c *Client) waitHold(ctx context.Context, method string) error {
	for {
		c.mu.Lock()
		held := time.Until(c.held[method])
		c.mu.Unlock()
		if held <= 0 {
			return nil
		}
		t := time.NewTimer(held)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (c *Client) isHeld(method string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Before(c.held[method])
}

// holdMethod stops every call of method until wait has passed.
func (c *Client) holdMethod(method string, wait time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held == nil {
		c.held = map[string]time.Time{}
	}
	if until := time.Now().Add(wait); until.After(c.held[method]) {
		c.held[method] = until
	}
}

// headerState is one case's header redraws.
type headerState struct {
	last    time.Time // the last redraw
	pending bool      // a redraw is scheduled, and will read the case then
}

// redraw brings a case's header up to date, never holding up the post it
// follows: chat.update is Tier 3, shared by every case, and a thread's
// messages must not queue behind it. The redraw runs on its own, at once
// if the last one is older than Config.HeaderEvery, else at the end of
// that time, reading the case as it is then: a busy thread's changes fold
// into one chat.update.
func (c *Client) redraw(caseID, channel, ts string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.headers == nil {
		c.headers = map[string]*headerState{}
	}
	h := c.headers[caseID]
	if h == nil {
		h = &headerState{}
		c.headers[caseID] = h
	}
	if h.pending || c.life.Err() != nil {
		return // the scheduled redraw will show this change too
	}
	h.pending = true
	c.redrawLater(h, caseID, channel, ts, time.Until(h.last.Add(c.cfg.HeaderEvery)))
	if len(c.headers) > 10000 { // forget cases long quiet
		for id, s := range c.headers {
			if !s.pending && time.Since(s.last) > c.cfg.HeaderEvery {
				delete(c.headers, id)
			}
		}
	}
}

// redrawLater redraws a case's header once after wait, reading the case
// then; it waits for the tier and any Retry-After of chat.update first. A
// change that comes while it waits is shown too; one that comes after it
// read the case schedules the next. A failed redraw is tried again after
// HeaderEvery. It stops when the client closes. c.mu is held.
func (c *Client) redrawLater(h *headerState, caseID, channel, ts string, wait time.Duration) {
	c.background.Add(1)
	go func() {
		defer c.background.Done()
		t := time.NewTimer(max(wait, 0))
		defer t.Stop()
		select {
		case <-c.life.Done():
			return
		case <-t.C:
		}
		if err := c.paceMethod(c.life, "chat.update", ""); err != nil {
			return
		}
		c.mu.Lock()
		h.pending, h.last = false, time.Now()
		c.mu.Unlock()
		if err := c.updateHeader(c.life, caseID, channel, ts); err != nil && c.life.Err() == nil {
			c.log.Warn("slack header redraw failed; trying again shortly", "case", caseID, "err", err)
			c.mu.Lock()
			if !h.pending {
				h.pending = true
				c.redrawLater(h, caseID, channel, ts, c.cfg.HeaderEvery)
			}
			c.mu.Unlock()
		}
	}()
}
