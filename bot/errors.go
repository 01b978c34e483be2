package bot

import (
	"errors"
	"fmt"
	"time"
)

// ErrUndeliverable marks a message the platform refused for good: the
// consumer blocked the bot or the chat is gone. The relay drops it, marks
// the conversation, and warns the agents instead of retrying forever.
var ErrUndeliverable = errors.New("bot: undeliverable")

// ErrRejected marks a message the platform refused as malformed (a bad
// request). Sending it again would fail the same way and hold up the
// messages behind it, so the relay drops it and warns the agents; the
// consumer is not marked as having blocked the bot.
var ErrRejected = errors.New("bot: rejected by the platform")

// RetryAfterError asks the relay to wait before trying a destination again,
// as a platform's rate limit (Telegram's retry_after, Slack's Retry-After)
// says.
type RetryAfterError struct {
	Wait time.Duration
	Err  error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("retry after %s: %v", e.Wait, e.Err)
}

func (e *RetryAfterError) Unwrap() error { return e.Err }
