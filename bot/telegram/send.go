package telegram

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"golang.org/x/time/rate"

	"ombud/bot"
	"ombud/dialog"
	"ombud/locales"
)

// maxMessage and maxCaption are Telegram's limits for a message and for a
// document's caption, in UTF-16 code units.
const (
	maxMessage = 4096
	maxCaption = 1024
)

// Send delivers one output to its chat: split at line boundaries when it
// is longer than Telegram allows, with its buttons as an inline keyboard
// on the last part. It waits for the chat's and the bot's pace first.
//
// Telegram has no idempotency key: if a send times out after Telegram
// accepted it, the relay sends it again and the consumer sees it twice.
// Delivery is at least once, never at most once.
func (c *Client) Send(ctx context.Context, out dialog.Output) error {
	chatID, err := strconv.ParseInt(out.Chat, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: chat id %q is not a Telegram chat", bot.ErrUndeliverable, out.Chat)
	}
	if out.Document != nil {
		caption := out.Text
		if utf16Len(caption) > maxCaption {
			// Too long for a caption: the text goes first, as messages, and
			// the document after it without one.
			if err := c.sendText(ctx, chatID, caption, nil); err != nil {
				return err
			}
			caption = ""
		}
		if err := c.pace(ctx, chatID); err != nil {
			return err
		}
		_, err := c.api.SendDocument(ctx, &tgbot.SendDocumentParams{ChatID: chatID, Caption: caption,
			Document: &models.InputFileUpload{Filename: out.Document.Name, Data: bytes.NewReader(out.Document.Data)}})
		if err != nil {
			return c.classify(err)
		}
		return nil
	}
	return c.sendText(ctx, chatID, out.Text, out.Buttons)
}

// sendText sends text as one message or more, with the buttons on the last.
func (c *Client) sendText(ctx context.Context, chatID int64, text string, buttons [][]dialog.Button) error {
	parts := split(text, maxMessage)
	for i, part := range parts {
		if err := c.pace(ctx, chatID); err != nil {
			return err
		}
		params := &tgbot.SendMessageParams{ChatID: chatID, Text: part}
		if i == len(parts)-1 && len(buttons) > 0 {
			params.ReplyMarkup = keyboard(buttons)
		}
		if _, err := c.api.SendMessage(ctx, params); err != nil {
			return c.classify(err)
		}
	}
	return nil
}

// classify maps Telegram's answers to what the relay should do.
func (c *Client) classify(err error) error {
	var tooMany *tgbot.TooManyRequestsError
	err = c.redacted(err)
	switch {
	case errors.As(err, &tooMany):
		wait := time.Duration(max(tooMany.RetryAfter, 1)) * time.Second
		c.pauseAll(wait)
		return &bot.RetryAfterError{Wait: wait, Err: err}
	case errors.Is(err, tgbot.ErrorForbidden):
		return fmt.Errorf("%w: %w", bot.ErrUndeliverable, err) // blocked by the user, or kicked
	case errors.Is(err, tgbot.ErrorBadRequest) && strings.Contains(strings.ToLower(err.Error()), "chat not found"):
		// Telegram tells this 400 apart from the others only in words.
		return fmt.Errorf("%w: %w", bot.ErrUndeliverable, err)
	case errors.Is(err, tgbot.ErrorBadRequest):
		return fmt.Errorf("%w: %w", bot.ErrRejected, err) // e.g. BUTTON_DATA_INVALID
	}
	return err
}

// pauseAll stops every send of the bot until wait has passed: Telegram's
// 429 applies to the bot, not to one chat.
func (c *Client) pauseAll(wait time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if until := time.Now().Add(wait); until.After(c.pausedUntil) {
		c.pausedUntil = until
	}
}

// paused reports whether a 429 pause is running.
func (c *Client) paused() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Before(c.pausedUntil)
}

// pace waits for the chat's limiter, then for any 429 pause to end and a
// place under the bot's overall limit. Every sender held by a pause takes
// its place again when the pause ends: places taken before it would all
// fall due at its end and burst past the limit. The pause is read again
// after every wait: another send may have met a 429 meanwhile.
func (c *Client) pace(ctx context.Context, chatID int64) error {
	c.mu.Lock()
	lim := c.chatLimiter(chatID)
	c.mu.Unlock()
	if err := lim.Wait(ctx); err != nil {
		return err
	}
	for {
		if err := c.waitPause(ctx); err != nil {
			return err
		}
		if err := c.global.Wait(ctx); err != nil {
			return err
		}
		if !c.paused() {
			return nil
		}
	}
}

// waitPause returns when no 429 pause runs, or ctx ends.
func (c *Client) waitPause(ctx context.Context) error {
	for {
		c.mu.Lock()
		paused := time.Until(c.pausedUntil)
		c.mu.Unlock()
		if paused <= 0 {
			return nil
		}
		t := time.NewTimer(paused)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// chatLimiter returns the chat's limiter, forgetting chats idle for a
// minute so memory follows active chats only. c.mu must be held.
func (c *Client) chatLimiter(chatID int64) *rate.Limiter {
	now := time.Now()
	p, ok := c.chats[chatID]
	if !ok {
		if len(c.chats) >= 1024 {
			for id, q := range c.chats {
				if now.Sub(q.used) > time.Minute {
					delete(c.chats, id)
				}
			}
		}
		p = &chatPace{limiter: rate.NewLimiter(rate.Limit(c.cfg.ChatRate), c.cfg.ChatBurst)}
		c.chats[chatID] = p
	}
	p.used = now
	return p.limiter
}

// keyboard turns the dialog's button rows into an inline keyboard.
func keyboard(rows [][]dialog.Button) *models.InlineKeyboardMarkup {
	kb := &models.InlineKeyboardMarkup{}
	for _, row := range rows {
		var r []models.InlineKeyboardButton
		for _, b := range row {
			r = append(r, models.InlineKeyboardButton{Text: b.Label, CallbackData: b.Data})
		}
		kb.InlineKeyboard = append(kb.InlineKeyboard, r)
	}
	return kb
}

// split cuts text into parts of at most limit UTF-16 code units, at line
// breaks where it can, else at spaces, else anywhere.
func split(text string, limit int) []string {
	var parts []string
	for utf16Len(text) > limit {
		cut := prefixWithin(text, limit)
		if i := strings.LastIndex(cut, "\n"); i > 0 {
			cut = cut[:i+1]
		} else if i := strings.LastIndex(cut, " "); i > 0 {
			cut = cut[:i+1]
		}
		parts = append(parts, strings.TrimRight(cut, "\n "))
		text = strings.TrimLeft(text[len(cut):], "\n")
	}
	if text = strings.TrimRight(text, "\n "); text != "" || len(parts) == 0 {
		parts = append(parts, text)
	}
	return parts
}

// prefixWithin is the longest prefix of s of at most limit UTF-16 units.
func prefixWithin(s string, limit int) string {
	n := 0
	for i, r := range s {
		w := len(utf16.Encode([]rune{r}))
		if n+w > limit {
			return s[:i]
		}
		n += w
	}
	return s
}

func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }

// SetCommands sets the command menu in every language, with English as
// the default for other languages.
func (c *Client) SetCommands(ctx context.Context, catalog *locales.Catalog) error {
	names := []string{dialog.CommandNew, dialog.CommandStatus, dialog.CommandBack, dialog.CommandCancel, dialog.CommandLanguage,
		dialog.CommandMyData, dialog.CommandDelete, dialog.CommandHelp}
	for _, lang := range append([]string{""}, catalog.Languages()...) {
		pr := catalog.Printer(lang)
		var cmds []models.BotCommand
		for _, n := range names {
			cmds = append(cmds, models.BotCommand{Command: n, Description: pr.Text("command."+n, nil)})
		}
		if _, err := c.api.SetMyCommands(ctx, &tgbot.SetMyCommandsParams{Commands: cmds, LanguageCode: lang}); err != nil {
			return fmt.Errorf("telegram: setMyCommands %q: %w", lang, c.redacted(err))
		}
	}
	return nil
}

// Typing shows "typing…" in a chat while a slow turn is worked on. It is
// best effort.
func (c *Client) Typing(ctx context.Context, chat string) {
	id, err := strconv.ParseInt(chat, 10, 64)
	if err != nil || c.paused() {
		return // during a 429 pause every call would lengthen it
	}
	if _, err := c.api.SendChatAction(ctx, &tgbot.SendChatActionParams{ChatID: id, Action: models.ChatActionTyping}); err != nil {
		c.log.Debug("telegram sendChatAction", "err", redact(err.Error(), c.cfg.Token))
	}
}

// Download opens a consumer's file by its file_id, for the agents' desk.
// Telegram lets bots download files of up to 20 MB.
func (c *Client) Download(ctx context.Context, fileID string) (io.ReadCloser, int64, error) {
	f, err := c.api.GetFile(ctx, &tgbot.GetFileParams{FileID: fileID})
	if errors.Is(err, tgbot.ErrorBadRequest) {
		return nil, 0, fmt.Errorf("%w: telegram file %s: %w", bot.ErrUndeliverable, fileID, c.redacted(err))
	}
	if err != nil {
		return nil, 0, fmt.Errorf("telegram: getFile: %w", c.redacted(err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.APIURL+"/file/bot"+c.cfg.Token+"/"+f.FilePath, nil)
	if err != nil {
		return nil, 0, errors.New("telegram: bad file path")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, c.redacted(err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, 0, fmt.Errorf("telegram: download %s: %s", fileID, resp.Status)
	}
	return resp.Body, f.FileSize, nil
}
