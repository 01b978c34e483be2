// Package telegramtest is a fake of the Telegram Bot API for tests: an
// httptest server that speaks the platform's wire format (POST
// /bot<token>/<method> with multipart or URL-encoded form fields, answers
// {"ok":true,"result":...}), keeps a queue of updates with getUpdates'
// long-poll and offset semantics, records what the bot sends, and can be
// told to answer 429 with retry_after, 5xx or 403.
package telegramtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"
)

// Sent is one message the bot sent.
type Sent struct {
	ChatID int64
	Text   string
	// Document is the file of a sendDocument, with its name.
	Document     []byte
	DocumentName string
	ReplyMarkup  string // the inline keyboard as JSON, if any
	At           time.Time
}

// Failure is an error answer the fake gives instead of doing a call.
type Failure struct {
	Status     int    // HTTP status, e.g. 429, 502, 403
	RetryAfter int    // seconds, for 429
	Text       string // description
	// Drop closes the connection without an answer, as a network fault
	// does; the call may or may not have been done (Done says which).
	Drop bool
	Done bool
}

// inFlightGrace is how long after a 429 a send may still arrive without
// counting as a violation: it may have left before the 429 was received.
const inFlightGrace = 200 * time.Millisecond

// Server is the fake Bot API.
type Server struct {
	*httptest.Server
	Token string

	mu        sync.Mutex
	updates   []models.Update // not yet confirmed
	nextID    int64
	nextMsgID int
	sent      []Sent
	calls     map[string]int
	callLog   []Call
	commands  map[string]string
	webhook   struct{ URL, Secret string }
	files     map[string]models.File
	contents  map[string][]byte // file_path -> bytes
	// pausedUntil is when a 429 given by Fail429 ends; a send before it is
	// recorded as a violation.
	pausedUntil  time.Time
	pauseStarted time.Time
	violations   []string
	changed      chan struct{}

	// Fail, if set, is asked before every call; a non-nil Failure is
	// answered instead of the call.
	Fail func(method string, form map[string]string) *Failure
	// OnSend, if set, is called with every message accepted, outside the
	// fake's lock: load tests route replies to waiting chats through it.
	OnSend func(Sent)
}

// New starts a fake for the bot token.
func New(token string) *Server {
	s := &Server{
		Token: token, nextID: 1000, nextMsgID: 1,
		calls: map[string]int{}, commands: map[string]string{},
		files: map[string]models.File{}, contents: map[string][]byte{}, changed: make(chan struct{}),
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL of the API, for TELEGRAM_API_URL.
func (s *Server) APIURL() string { return s.Server.URL }

func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Add queues an update and returns its update_id.
// Renumber makes the next update id next, as Telegram does after a week
// without updates: it then picks new ids at random, lower ones included.
func (s *Server) Renumber(next int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID = next - 1
}

func (s *Server) Add(u models.Update) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	u.ID = s.nextID
	s.updates = append(s.updates, u)
	s.notify()
	return u.ID
}

// Text queues a text message from a user in a private chat.
func (s *Server) Text(chatID int64, lang, text string) int64 {
	s.mu.Lock()
	s.nextMsgID++
	id := s.nextMsgID
	s.mu.Unlock()
	return s.Add(models.Update{Message: textMessage(id, chatID, lang, text)})
}

// Document queues a consumer sending a PDF called name; its file id is
// "doc-"+name, which AddFile can serve.
func (s *Server) Document(chatID int64, lang, name string) int64 {
	s.mu.Lock()
	s.nextMsgID++
	id := s.nextMsgID
	s.mu.Unlock()
	return s.Add(models.Update{Message: &models.Message{ID: id, Date: int(time.Now().Unix()),
		Chat:     models.Chat{ID: chatID, Type: models.ChatTypePrivate},
		From:     &models.User{ID: chatID, FirstName: "Test", LanguageCode: lang},
		Document: &models.Document{FileID: "doc-" + name, FileName: name, MimeType: "application/pdf", FileSize: 48213}}})
}

// TextUpdate is an update as Telegram posts it to a webhook: the JSON of a
// consumer's text message, a command if it starts with "/".
func TextUpdate(updateID, messageID, chatID int64, lang, text string) []byte {
	b, err := json.Marshal(models.Update{ID: updateID, Message: textMessage(int(messageID), chatID, lang, text)})
	if err != nil {
		panic(err) // a fixed shape of plain values always marshals
	}
	return b
}

func textMessage(id int, chatID int64, lang, text string) *models.Message {
	msg := &models.Message{
		ID: id, Date: int(time.Now().Unix()), Text: text,
		Chat: models.Chat{ID: chatID, Type: models.ChatTypePrivate},
		From: &models.User{ID: chatID, FirstName: "Test", LanguageCode: lang},
	}
	if strings.HasPrefix(text, "/") {
		cmd, _, _ := strings.Cut(text, " ")
		msg.Entities = []models.MessageEntity{{Type: models.MessageEntityTypeBotCommand, Offset: 0, Length: utf16Len(cmd)}}
	}
	return msg
}

// Press queues a press of an inline button with callback data.
func (s *Server) Press(chatID int64, lang, data string) int64 {
	s.mu.Lock()
	s.nextMsgID++
	id := s.nextMsgID
	s.mu.Unlock()
	return s.Add(models.Update{CallbackQuery: &models.CallbackQuery{
		ID: fmt.Sprintf("cb%d", id), Data: data, ChatInstance: "1",
		From: models.User{ID: chatID, FirstName: "Test", LanguageCode: lang},
		Message: models.MaybeInaccessibleMessage{Type: models.MaybeInaccessibleMessageTypeMessage,
			Message: &models.Message{ID: id, Chat: models.Chat{ID: chatID, Type: models.ChatTypePrivate}}},
	}})
}

// Button returns the callback data of the button showing value on the
// latest message to chatID that has one, as a user would find it on
// screen. Ombud numbers its keyboards ("7|yes" shows the value "yes"), so
// a button matches on its data or on the part after the number.
func (s *Server) Button(chatID int64, value string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.sent) - 1; i >= 0; i-- {
		m := s.sent[i]
		if m.ChatID != chatID || m.ReplyMarkup == "" {
			continue
		}
		var kb models.InlineKeyboardMarkup
		if json.Unmarshal([]byte(m.ReplyMarkup), &kb) != nil {
			continue
		}
		for _, row := range kb.InlineKeyboard {
			for _, b := range row {
				_, shown, numbered := strings.Cut(b.CallbackData, "|")
				if b.CallbackData == value || (numbered && shown == value) {
					return b.CallbackData, true
				}
			}
		}
	}
	return "", false
}

// PressShown presses the button showing value on the latest message to
// chatID that has one; it reports false when no message shows it.
func (s *Server) PressShown(chatID int64, lang, value string) bool {
	data, ok := s.Button(chatID, value)
	if ok {
		s.Press(chatID, lang, data)
	}
	return ok
}

// AddFile makes a file known to getFile and downloadable at its path.
func (s *Server) AddFile(fileID string, content []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	path := "documents/" + fileID
	s.files[fileID] = models.File{FileID: fileID, FileUniqueID: "u" + fileID, FileSize: int64(len(content)), FilePath: path}
	s.contents[path] = content
}

// Sent returns every message sent so far.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// SentTo returns the messages sent to one chat.
func (s *Server) SentTo(chatID int64) []Sent {
	var out []Sent
	for _, m := range s.Sent() {
		if m.ChatID == chatID {
			out = append(out, m)
		}
	}
	return out
}

// Calls counts calls of a method.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// Call is one Bot API call as it arrived, answered or not.
type Call struct {
	Method string
	Chat   string // chat_id, if the call has one
	At     time.Time
}

// CallLog lists every call so far, in arrival order: soak tests measure
// rates from it.
func (s *Server) CallLog() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.callLog)
}

// Pending is how many updates have not been confirmed by an offset.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.updates)
}

// Commands returns the command menu set for a language ("" = default) as
// "name=description" lines.
func (s *Server) Commands(lang string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commands[lang]
}

// Webhook returns the webhook URL and secret last set.
func (s *Server) Webhook() (url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhook.URL, s.webhook.Secret
}

// Violations lists sends made while a 429 said to wait.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

// Wait blocks until cond holds or timeout passes, checking whenever the
// fake's state changes; it reports whether cond held.
func (s *Server) Wait(timeout time.Duration, cond func() bool) bool {
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		changed := s.changed
		s.mu.Unlock()
		if cond() {
			return true
		}
		select {
		case <-changed:
		case <-time.After(50 * time.Millisecond): // conditions may depend on time alone
		case <-deadline:
			return cond()
		}
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/file/bot"+s.Token+"/"); ok {
		s.file(w, r, rest)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/bot")
	token, method, ok := strings.Cut(path, "/")
	if !ok || r.Method != http.MethodPost {
		writeError(w, http.StatusNotFound, "Not Found", 0)
		return
	}
	if token != s.Token {
		writeError(w, http.StatusUnauthorized, "Unauthorized", 0)
		return
	}
	form, err := readForm(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Bad Request: "+err.Error(), 0)
		return
	}
	s.mu.Lock()
	s.calls[method]++
	s.callLog = append(s.callLog, Call{Method: method, Chat: form["chat_id"], At: time.Now()})
	fail := s.Fail
	s.mu.Unlock()
	if fail != nil {
		if f := fail(method, form); f != nil {
			s.fail(w, r, method, form, f)
			return
		}
	}
	s.dispatch(w, r, method, form)
}

// file serves a file's bytes, as Telegram's file URLs do.
func (s *Server) file(w http.ResponseWriter, r *http.Request, path string) {
	s.mu.Lock()
	content, found := s.contents[path]
	s.mu.Unlock()
	if !found {
		http.NotFound(w, r)
		return
	}
	w.Write(content)
}

// readForm reads a call's parameters, form-encoded or multipart.
func readForm(r *http.Request) (map[string]string, error) {
	// A call without parameters has an empty body, even as multipart.
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if len(body) > 0 {
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err := r.ParseMultipartForm(32 << 20); err != nil && err != http.ErrNotMultipart {
			return nil, err
		}
	}
	form := map[string]string{}
	for k, v := range r.Form {
		form[k] = v[0]
	}
	if r.MultipartForm != nil {
		for k, v := range r.MultipartForm.Value {
			form[k] = v[0]
		}
	}
	return form, nil
}

// fail answers a call with a failure: a dropped connection (after doing
// the call, if f.Done) or an error answer, a 429 pausing the bot.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, method string, form map[string]string, f *Failure) {
	if f.Drop {
		if f.Done {
			s.dispatch(httptest.NewRecorder(), r, method, form)
		}
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	if f.Status == http.StatusTooManyRequests {
		s.mu.Lock()
		s.pauseStarted = time.Now()
		s.pausedUntil = s.pauseStarted.Add(time.Duration(f.RetryAfter) * time.Second)
		s.mu.Unlock()
	}
	writeError(w, f.Status, f.Text, f.RetryAfter)
}

// dispatch answers one Bot API call.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, method string, form map[string]string) {
	switch method {
	case "getMe":
		writeOK(w, models.User{ID: 1, IsBot: true, FirstName: "Ombud", Username: "ombud_test_bot"})
	case "getUpdates":
		s.getUpdates(w, r, form)
	case "sendMessage":
		s.sendMessage(w, form)
	case "answerCallbackQuery":
		if form["callback_query_id"] == "" {
			writeError(w, http.StatusBadRequest, "Bad Request: query id is empty", 0)
			return
		}
		writeOK(w, true)
	case "sendDocument":
		s.sendDocument(w, r, form)
	case "sendChatAction", "deleteWebhook":
		writeOK(w, true)
	case "setMyCommands":
		var cmds []models.BotCommand
		if err := json.Unmarshal([]byte(form["commands"]), &cmds); err != nil {
			writeError(w, http.StatusBadRequest, "Bad Request: can't parse commands", 0)
			return
		}
		var lines []string
		for _, c := range cmds {
			lines = append(lines, c.Command+"="+c.Description)
		}
		s.mu.Lock()
		s.commands[form["language_code"]] = strings.Join(lines, "\n")
		s.mu.Unlock()
		writeOK(w, true)
	case "setWebhook":
		s.mu.Lock()
		s.webhook.URL, s.webhook.Secret = form["url"], form["secret_token"]
		s.mu.Unlock()
		writeOK(w, true)
	case "getFile":
		s.mu.Lock()
		f, ok := s.files[form["file_id"]]
		s.mu.Unlock()
		if !ok {
			writeError(w, http.StatusBadRequest, "Bad Request: invalid file_id", 0)
			return
		}
		if f.FileSize > 20<<20 {
			writeError(w, http.StatusBadRequest, "Bad Request: file is too big", 0)
			return
		}
		writeOK(w, f)
	default:
		writeError(w, http.StatusNotFound, "Not Found: method not found", 0)
	}
}

// getUpdates confirms every update below offset, then returns up to limit
// of the rest, waiting up to timeout seconds for one to arrive.
func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, form map[string]string) {
	offset, _ := strconv.ParseInt(form["offset"], 10, 64)
	limit, _ := strconv.Atoi(form["limit"])
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	timeout, _ := strconv.Atoi(form["timeout"])
	deadline := time.After(time.Duration(timeout) * time.Second)
	for {
		s.mu.Lock()
		kept := s.updates[:0]
		for _, u := range s.updates {
			if u.ID >= offset {
				kept = append(kept, u)
			}
		}
		s.updates = kept
		out := append([]models.Update(nil), kept[:min(limit, len(kept))]...)
		changed := s.changed
		s.mu.Unlock()
		if len(out) > 0 || timeout == 0 {
			writeOK(w, out)
			return
		}
		select {
		case <-changed:
		case <-deadline:
			writeOK(w, []models.Update{})
			return
		case <-r.Context().Done():
			return
		}
	}
}

func (s *Server) sendMessage(w http.ResponseWriter, form map[string]string) {
	chatID, err := strconv.ParseInt(form["chat_id"], 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Bad Request: chat not found", 0)
		return
	}
	text := form["text"]
	if text == "" {
		writeError(w, http.StatusBadRequest, "Bad Request: message text is empty", 0)
		return
	}
	if utf16Len(text) > 4096 {
		writeError(w, http.StatusBadRequest, "Bad Request: message is too long", 0)
		return
	}
	s.mu.Lock()
	now := time.Now()
	if now.Before(s.pausedUntil) {
		defer s.mu.Unlock()
		// Like Telegram, refuse every send of the bot during the pause. A
		// send arriving well after the 429 went out means the bot ignored
		// it; those in flight at that moment could not know.
		if now.Sub(s.pauseStarted) > inFlightGrace {
			s.violations = append(s.violations, fmt.Sprintf("sendMessage to %d %s before retry_after ended", chatID, s.pausedUntil.Sub(now).Round(time.Millisecond)))
		}
		left := int(s.pausedUntil.Sub(now)/time.Second) + 1
		writeError(w, http.StatusTooManyRequests, fmt.Sprintf("Too Many Requests: retry after %d", left), left)
		return
	}
	s.nextMsgID++
	msg := Sent{ChatID: chatID, Text: text, ReplyMarkup: form["reply_markup"], At: now}
	s.sent = append(s.sent, msg)
	s.notify()
	id, onSend := s.nextMsgID, s.OnSend
	s.mu.Unlock()
	if onSend != nil {
		onSend(msg)
	}
	writeOK(w, models.Message{ID: id, Date: int(now.Unix()), Text: text, Chat: models.Chat{ID: chatID, Type: models.ChatTypePrivate}})
}

func writeOK(w http.ResponseWriter, result any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": result})
}

func writeError(w http.ResponseWriter, status int, description string, retryAfter int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	body := map[string]any{"ok": false, "error_code": status, "description": description}
	if retryAfter > 0 {
		body["parameters"] = map[string]int{"retry_after": retryAfter}
	}
	json.NewEncoder(w).Encode(body)
}

// utf16Len is a string's length in UTF-16 code units, as Telegram counts.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

func (s *Server) sendDocument(w http.ResponseWriter, r *http.Request, form map[string]string) {
	chatID, err := strconv.ParseInt(form["chat_id"], 10, 64)
	if err != nil || r.MultipartForm == nil || len(r.MultipartForm.File["document"]) == 0 {
		writeError(w, http.StatusBadRequest, "Bad Request: there is no document in the request", 0)
		return
	}
	if utf16Len(form["caption"]) > 1024 {
		// Telegram's caption limit is 1024 characters, far below a message's.
		writeError(w, http.StatusBadRequest, "Bad Request: message caption is too long", 0)
		return
	}
	fh := r.MultipartForm.File["document"][0]
	f, err := fh.Open()
	if err != nil {
		writeError(w, http.StatusBadRequest, "Bad Request: "+err.Error(), 0)
		return
	}
	data, _ := io.ReadAll(f)
	f.Close()
	s.mu.Lock()
	s.nextMsgID++
	msg := Sent{ChatID: chatID, Text: form["caption"], Document: data, DocumentName: fh.Filename, At: time.Now()}
	s.sent = append(s.sent, msg)
	s.notify()
	id := s.nextMsgID
	s.mu.Unlock()
	writeOK(w, models.Message{ID: id, Date: int(time.Now().Unix()), Caption: msg.Text, Chat: models.Chat{ID: chatID, Type: models.ChatTypePrivate},
		Document: &models.Document{FileID: fmt.Sprintf("doc%d", id), FileName: fh.Filename, FileSize: int64(len(data))}})
}
