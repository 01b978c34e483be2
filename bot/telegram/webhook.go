package telegram

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"ombud/bot"
)

// maxUpdateBytes bounds a webhook body; real updates are a few kilobytes.
const maxUpdateBytes = 1 << 20

// SetWebhook tells Telegram to deliver updates to url with the secret.
func (c *Client) SetWebhook(ctx context.Context, url, secret string) error {
	_, err := c.api.SetWebhook(ctx, &tgbot.SetWebhookParams{
		URL: url, SecretToken: secret, MaxConnections: 40,
		AllowedUpdates: []string{"message", "edited_message", "callback_query"},
	})
	if err != nil {
		return fmt.Errorf("telegram: setWebhook: %w", c.redacted(err))
	}
	return nil
}

// WebhookHandler serves /telegram/webhook. A request without the right
// X-Telegram-Bot-Api-Secret-Token gets 401 and changes nothing; the secret
// is compared in constant time. An update is in the inbox before the 2xx,
// so Telegram redelivers anything not stored.
func (c *Client) WebhookHandler(secret string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
		if secret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(secret)) != 1 {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxUpdateBytes))
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			http.Error(w, "update too large", http.StatusRequestEntityTooLarge)
			return
		case err != nil:
			http.Error(w, "read error", http.StatusBadRequest)
			return
		}
		var u models.Update
		if err := json.Unmarshal(body, &u); err != nil || u.ID == 0 {
			http.Error(w, "malformed update", http.StatusBadRequest)
			return
		}
		if _, err := c.ingest([]models.Update{u}); err != nil {
			if !errors.Is(err, bot.ErrDiskFull) { // said once by the store
				c.log.Error("telegram webhook update not stored; Telegram will redeliver", "err", err, "update", u.ID)
			}
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}
