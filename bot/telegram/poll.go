package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"ombud/bot"
	"ombud/dialog"
)

// cursorName is where the getUpdates offset is kept in the store.
const cursorName = "telegram.offset"

// staleOffset is how old a stored offset may be and still be used: less
// than the week after which Telegram numbers updates afresh.
const staleOffset = 6 * 24 * time.Hour

// allowedUpdates are the update kinds Ombud asks for.
const allowedUpdates = `["message","edited_message","callback_query"]`

// apiError is an unsuccessful Bot API answer.
type apiError struct {
	Code        int
	Description string
	RetryAfter  int
}

func (e *apiError) Error() string {
	return fmt.Sprintf("telegram: %d %s", e.Code, e.Description)
}

// Poll runs the long-polling loop until ctx ends. Each page of updates is
// written to the inbox together with the next offset in one durable
// transaction before the next getUpdates call confirms them to Telegram,
// so a crash at any moment loses nothing confirmed and the inbox drops
// anything delivered twice.
func (c *Client) Poll(ctx context.Context) error {
	if c.cfg.Store == nil {
		return errors.New("telegram: poll needs a store")
	}
	// A webhook left behind by an earlier webhook-mode run makes
	// getUpdates fail with 409.
	if _, err := c.api.DeleteWebhook(ctx, &tgbot.DeleteWebhookParams{}); err != nil && ctx.Err() == nil {
		c.log.Warn("telegram deleteWebhook", "err", redact(err.Error(), c.cfg.Token))
	}
	offset, at, _, err := c.cfg.Store.Cursor(cursorName)
	if err != nil {
		return fmt.Errorf("telegram: read offset: %w", err)
	}
	if time.Since(at) > staleOffset {
		// After a week without updates Telegram numbers the next ones at
		// random, so an old offset could confirm updates never fetched.
		// Start without one: Telegram resends what it holds, and the
		// inbox drops what it has already seen.
		offset = 0
	}
	failures := 0
	for ctx.Err() == nil {
		updates, err := c.getUpdates(ctx, offset)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			var api *apiError
			if errors.As(err, &api) && api.Code == http.StatusUnauthorized {
				return errors.New("telegram: the bot token was refused (401); check TELEGRAM_BOT_TOKEN")
			}
			wait := pollBackoff(failures)
			if errors.As(err, &api) && api.RetryAfter > 0 {
				wait = time.Duration(api.RetryAfter) * time.Second
			}
			failures++
			c.log.Warn("telegram getUpdates failed; retrying", "err", redact(err.Error(), c.cfg.Token), "wait", wait)
			sleep(ctx, wait)
			continue
		}
		failures = 0
		if len(updates) == 0 {
			continue
		}
		next, err := c.ingest(updates)
		if errors.Is(err, bot.ErrDiskFull) {
			// Not stored, so not confirmed: Telegram keeps them (for a
			// day) and the old offset fetches them again once there is
			// space. The store has said so already.
			sleep(ctx, diskFullWait)
			continue
		}
		if err != nil {
			// Not stored: poll again with the old offset, so Telegram
			// sends the same page again.
			c.log.Error("telegram updates not stored; they will be fetched again", "err", err)
			sleep(ctx, pollBackoff(0))
			continue
		}
		offset = next
	}
	return nil
}

// ingest makes a page of updates durable with the offset after it, answers
// button presses and wakes the service. It returns the new offset.
func (c *Client) ingest(updates []models.Update) (int64, error) {
	now := time.Now()
	var inputs []dialog.Input
	next := int64(0)
	for _, u := range updates {
		next = max(next, u.ID+1)
		if in, ok := Input(u, now); ok {
			inputs = append(inputs, in)
		}
	}
	if _, err := c.cfg.Store.Enqueue(&bot.Cursor{Name: cursorName, Value: next}, inputs...); err != nil {
		return 0, err
	}
	c.cfg.Wake()
	c.answerCallbacks(updates)
	return next, nil
}

// answerCallbacks stops the spinner on pressed buttons at once; the reply
// itself follows through the outbox. It is best effort: a lost answer only
// leaves a spinner, never a lost input.
func (c *Client) answerCallbacks(updates []models.Update) {
	for _, u := range updates {
		if q := u.CallbackQuery; q != nil {
			if c.paused() {
				continue // under a 429 pause the spinner waits; the reply still comes
			}
			// On the side, under the client's life rather than the
			// caller's: a webhook request ends before the answer is sent.
			c.background.Go(func() {
				ctx, cancel := context.WithTimeout(c.life, 5*time.Second)
				defer cancel()
				if _, err := c.api.AnswerCallbackQuery(ctx, &tgbot.AnswerCallbackQueryParams{CallbackQueryID: q.ID}); err != nil && c.life.Err() == nil {
					c.log.Warn("telegram answerCallbackQuery", "err", c.redacted(err))
				}
			})
		}
	}
}

// getUpdates is one long poll. Confirming happens through offset: every
// update below it is forgotten by Telegram.
func (c *Client) getUpdates(ctx context.Context, offset int64) ([]models.Update, error) {
	form := url.Values{
		"offset":          {strconv.FormatInt(offset, 10)},
		"limit":           {"100"},
		"timeout":         {strconv.Itoa(int(c.cfg.PollTimeout / time.Second))},
		"allowed_updates": {allowedUpdates},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.APIURL+"/bot"+c.cfg.Token+"/getUpdates", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, errors.New("telegram: bad API URL")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.redacted(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("telegram: read getUpdates: %w", err)
	}
	var r struct {
		OK          bool            `json:"ok"`
		Result      []models.Update `json:"result"`
		ErrorCode   int             `json:"error_code"`
		Description string          `json:"description"`
		Parameters  struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("telegram: getUpdates answered %s with no JSON", resp.Status)
	}
	if !r.OK {
		return nil, &apiError{Code: r.ErrorCode, Description: r.Description, RetryAfter: r.Parameters.RetryAfter}
	}
	return r.Result, nil
}

// diskFullWait is how often the poll looks again while the data disk is
// full: often enough to carry on soon after space returns.
const diskFullWait = 2 * time.Second

func pollBackoff(failures int) time.Duration {
	d := 500 * time.Millisecond
	for i := 0; i < failures && d < 30*time.Second; i++ {
		d *= 2
	}
	return min(d, 30*time.Second)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
