package telegram

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/go-telegram/bot/models"

	"ombud/dialog"
)

// knownCommands are the slash commands of the dialog.
var knownCommands = map[string]bool{
	dialog.CommandStart: true, dialog.CommandNew: true, dialog.CommandStatus: true,
	dialog.CommandLanguage: true, dialog.CommandCancel: true, dialog.CommandBack: true, dialog.CommandHelp: true,
	dialog.CommandMyData: true, dialog.CommandDelete: true,
}

// Input turns an update into a dialog input. It reports false for updates
// Ombud does not handle (groups, channels, reactions): they are confirmed
// and dropped.
func Input(u models.Update, now time.Time) (dialog.Input, bool) {
	in := dialog.Input{Key: "tg:" + strconv.FormatInt(u.ID, 10), Channel: Channel, At: now}
	switch {
	case u.Message != nil:
		return fromMessage(in, u.Message, false)
	case u.EditedMessage != nil:
		return fromMessage(in, u.EditedMessage, true)
	case u.CallbackQuery != nil:
		q := u.CallbackQuery
		chat := q.From.ID
		if m := q.Message.Message; m != nil {
			chat = m.Chat.ID
		}
		in.Kind, in.Data = dialog.InputChoice, q.Data
		in.Chat, in.Lang = strconv.FormatInt(chat, 10), q.From.LanguageCode
		return in, q.Data != ""
	}
	return in, false
}

func fromMessage(in dialog.Input, m *models.Message, edited bool) (dialog.Input, bool) {
	if m.Chat.Type != "" && m.Chat.Type != models.ChatTypePrivate {
		return in, false // Ombud talks to consumers one to one
	}
	in.Chat, in.Ref, in.Edited = strconv.FormatInt(m.Chat.ID, 10), strconv.Itoa(m.ID), edited
	if m.From != nil {
		in.Lang = m.From.LanguageCode
	}
	text, entities := m.Text, m.Entities
	if text == "" {
		text, entities = m.Caption, m.CaptionEntities
	}
	in.Kind, in.Text = dialog.InputMessage, text
	switch {
	case m.Document != nil:
		d := m.Document
		in.Attachment = &dialog.Attachment{FileID: d.FileID, Name: d.FileName, MIME: d.MimeType, Size: d.FileSize}
	case len(m.Photo) > 0:
		p := m.Photo[len(m.Photo)-1] // the largest size
		in.Attachment = &dialog.Attachment{FileID: p.FileID, Name: "photo.jpg", MIME: "image/jpeg", Size: int64(p.FileSize)}
	case m.Video != nil:
		v := m.Video
		in.Attachment = &dialog.Attachment{FileID: v.FileID, Name: orName(v.FileName, "video.mp4"), MIME: v.MimeType, Size: v.FileSize}
	case m.Audio != nil:
		a := m.Audio
		in.Attachment = &dialog.Attachment{FileID: a.FileID, Name: orName(a.FileName, "audio"), MIME: a.MimeType, Size: a.FileSize}
	case m.Voice != nil:
		v := m.Voice
		in.Attachment = &dialog.Attachment{FileID: v.FileID, Name: "voice.ogg", MIME: v.MimeType, Size: v.FileSize}
	case text == "":
		// What Ombud cannot take still gets an answer that says so.
		in.Unsupported = unsupported(m)
	}
	if !edited && in.Attachment == nil {
		if name, arg, ok := command(text, entities); ok {
			in.Kind, in.Command, in.Arg, in.Text = dialog.InputCommand, name, arg, ""
		}
	}
	return in, in.Text != "" || in.Attachment != nil || in.Unsupported != "" || in.Kind == dialog.InputCommand
}

// unsupported names a message Ombud cannot take; "" for service messages
// (a pinned message, say), which need no answer.
func unsupported(m *models.Message) string {
	switch {
	case m.Sticker != nil:
		return "sticker"
	case m.Location != nil, m.Venue != nil:
		return "location"
	case m.Contact != nil:
		return "contact"
	case m.Poll != nil:
		return "poll"
	case m.Dice != nil:
		return "dice"
	case m.Animation != nil:
		return "animation"
	case m.VideoNote != nil:
		return "video note"
	case m.Game != nil:
		return "game"
	}
	return ""
}

func orName(name, fallback string) string {
	if name == "" {
		return fallback
	}
	return name
}

// command finds a known bot command in a message, wherever it stands, and
// the text after it as its argument. Telegram gives entity offsets in
// UTF-16 code units: they are converted, and bounds checked, so text such
// as "hallå /status" or a forged entity can neither mismatch nor panic.
func command(text string, entities []models.MessageEntity) (name, arg string, ok bool) {
	units := utf16.Encode([]rune(text))
	for _, e := range entities {
		if e.Type != models.MessageEntityTypeBotCommand || e.Offset < 0 || e.Length < 2 || e.Offset+e.Length > len(units) {
			continue
		}
		word := string(utf16.Decode(units[e.Offset : e.Offset+e.Length]))
		word, _, _ = strings.Cut(strings.TrimPrefix(word, "/"), "@") // /start@ombud_bot
		word = strings.ToLower(word)
		if !knownCommands[word] {
			continue
		}
		rest := string(utf16.Decode(units[e.Offset+e.Length:]))
		return word, strings.TrimSpace(rest), true
	}
	return "", "", false
}
