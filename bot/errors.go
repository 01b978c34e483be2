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
