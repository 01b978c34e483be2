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
	"files.getUploadURLExternal":   20,  // Tier 2
	"files.completeUploadExternal": 20,  // Tier 2
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

// redraw brings a case's header up to date: at once if the last redraw is
// older than Config.HeaderEvery, else once at the end of that time,
// reading the case as it is then, however many changes came meanwhile. A
// busy thread's changes fold into one chat.update, well within Tier 3.
func (c *Client) redraw(ctx context.Context, caseID, channel, ts string) error {
	c.mu.Lock()
	if c.headers == nil {
		c.headers = map[string]*headerState{}
	}
	h := c.headers[caseID]
	if h == nil {
		h = &headerState{}
		c.headers[caseID] = h
	}
	if h.pending {
		c.mu.Unlock()
		return nil // the scheduled redraw will show this change too
	}
	if wait := time.Until(h.last.Add(c.cfg.HeaderEvery)); wait > 0 {
		h.pending = true
		c.mu.Unlock()
		c.redrawLater(ctx, h, caseID, channel, ts, wait)
		return nil
	}
	h.last = time.Now()
	if len(c.headers) > 10000 { // forget cases long quiet
		for id, s := range c.headers {
			if !s.pending && time.Since(s.last) > c.cfg.HeaderEvery {
				delete(c.headers, id)
			}
		}
	}
	c.mu.Unlock()
	if err := c.updateHeader(ctx, caseID, channel, ts); err != nil {
		// The message it follows is posted: a header that could not be
		// redrawn now is redrawn later, without holding up the desk.
		c.log.Warn("slack header redraw failed; trying again shortly", "case", caseID, "err", err)
		c.mu.Lock()
		if !h.pending {
			h.pending = true
			c.mu.Unlock()
			c.redrawLater(ctx, h, caseID, channel, ts, c.cfg.HeaderEvery)
		} else {
			c.mu.Unlock()
		}
	}
	return nil
}

// redrawLater redraws a case's header once after wait, reading the case
// then; it waits for any Retry-After of chat.update first.
func (c *Client) redrawLater(ctx context.Context, h *headerState, caseID, channel, ts string, wait time.Duration) {
	time.AfterFunc(wait, func() {
		c.mu.Lock()
		h.pending, h.last = false, time.Now()
		c.mu.Unlock()
		if err := c.updateHeader(context.WithoutCancel(ctx), caseID, channel, ts); err != nil {
			c.log.Warn("slack header redraw failed; the next change redraws it", "case", caseID, "err", err)
		}
	})
}
