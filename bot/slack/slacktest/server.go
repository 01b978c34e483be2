// Package slacktest is a fake of the Slack Web API for tests: an httptest
// server that takes form-encoded calls with the token as a form field,
// answers {"ok":true,...} or {"ok":false,"error":...}, keeps channels of
// messages with threads, reactions and metadata, opens views, takes file
// uploads, and can be told to answer 429 with Retry-After. It also signs
// requests the way Slack signs what it sends to an app.
package slacktest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
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

	"github.com/gorilla/websocket"
)

// Message is one message the app posted.
type Message struct {
	Channel   string
	TS        string
	ThreadTS  string
	Text      string
	Blocks    string // JSON
	Metadata  string // JSON
	Updated   int    // how often chat.update changed it
	Reactions []string
}

// Failure is an error answer instead of a call.
type Failure struct {
	Status     int    // 200 for ok:false errors, 429, 5xx
	Error      string // the ok:false error, e.g. "channel_not_found"
	RetryAfter int    // seconds, for 429
}

// Server is the fake Web API.
type Server struct {
	*httptest.Server
	Token string

	mu       sync.Mutex
	ts       int64
	messages []*Message
	views    []string
	files    []string
	fileIDs  []string
	calls    map[string]int
	callLog  []Call
	users    map[string]string
	changed  chan struct{}
	sockets  []*websocket.Conn
	acks     []string

	// Fail, if set, is asked before every call.
	Fail func(method string, form map[string]string) *Failure
	// LoseAnswer, if set, is asked after a call was done: true answers 502
	// instead of the result, as when a response is lost on the way back.
	LoseAnswer func(method string) bool
	// PageSize bounds the messages of one history or replies page; 0
	// means Slack's largest, 1000.
	PageSize int

	// heldUntil is, per method, when a Retry-After given by Fail ends; a
	// call before then is a violation.
	heldUntil  map[string]time.Time
	heldSince  map[string]time.Time
	violations []string
}

// inFlightGrace is how long after a 429 a call of the same method may
// still arrive without counting: it may have left before the 429 came back.
const inFlightGrace = 200 * time.Millisecond

// Call is one Web API call as it arrived, answered or not.
type Call struct {
	Method  string
	Channel string // the channel argument, if the call has one
	At      time.Time
}

// CallLog lists every authenticated call so far, in arrival order: soak
// tests measure rates from it.
func (s *Server) CallLog() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.callLog...)
}

// Violations lists calls made while their method's Retry-After ran.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

// New starts a fake for the bot token.
func New(token string) *Server {
	s := &Server{Token: token, ts: 1700000000000000, calls: map[string]int{}, users: map[string]string{}, changed: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// pageSize is how many messages one history or replies call returns at
// most: PageSize if set, else Slack's largest page, 1000. s.mu is held.
func (s *Server) pageSize() int {
	if s.PageSize > 0 {
		return s.PageSize
	}
	return 1000
}

// APIURL is the base URL for SLACK_API_URL; the trailing slash matters.
func (s *Server) APIURL() string { return s.Server.URL + "/api/" }

// AddUser names a user for users.info.
func (s *Server) AddUser(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[id] = name
}

// Messages returns every message in a channel ("" for all), in order.
func (s *Server) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if channel == "" || m.Channel == channel {
			out = append(out, *m)
		}
	}
	return out
}

// Thread returns the replies in a thread.
func (s *Server) Thread(channel, ts string) []Message {
	var out []Message
	for _, m := range s.Messages(channel) {
		if m.ThreadTS == ts {
			out = append(out, m)
		}
	}
	return out
}

// Message returns one message by channel and ts.
func (s *Server) Message(channel, ts string) (Message, bool) {
	for _, m := range s.Messages(channel) {
		if m.TS == ts {
			return m, true
		}
	}
	return Message{}, false
}

// Views returns the views opened, as JSON.
func (s *Server) Views() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.views...)
}

// Files returns the names of uploaded files.
func (s *Server) Files() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.files...)
}

// Calls counts calls of a method.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// Wait blocks until cond holds or timeout passes.
func (s *Server) Wait(timeout time.Duration, cond func() bool) bool {
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return true
		}
		select {
		case <-ch:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			return cond()
		}
	}
}

func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) nextTS() string {
	s.ts++
	return fmt.Sprintf("%d.%06d", s.ts/1000000, s.ts%1000000)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/upload/") {
		s.upload(w, r)
		return
	}
	if r.URL.Path == "/socket" {
		s.socket(w, r)
		return
	}
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	form, bad := readForm(r)
	if bad != "" {
		reply(w, http.StatusBadRequest, refusal(bad))
		return
	}
	token := form["token"]
	if token == "" {
		token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	if token != s.Token && !(method == "apps.connections.open" && strings.HasPrefix(token, "xapp-")) {
		reply(w, http.StatusOK, refusal("invalid_auth"))
		return
	}
	if s.failed(w, method, form) {
		return
	}
	if lose := s.LoseAnswer; lose != nil && lose(method) {
		s.call(httptest.NewRecorder(), r, method, form)
		http.Error(w, "bad gateway", http.StatusBadGateway)
		return
	}
	s.call(w, r, method, form)
}

// readForm reads a call's arguments: a form, or JSON (views.open sends
// JSON, with the token as a bearer). bad is Slack's error for a malformed
// body.
func readForm(r *http.Request) (form map[string]string, bad string) {
	if err := r.ParseMultipartForm(32 << 20); err != nil && err != http.ErrNotMultipart {
		return nil, "invalid_form_data"
	}
	form = map[string]string{}
	for k, v := range r.Form {
		form[k] = v[0]
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return form, ""
	}
	var body map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil && err != io.EOF {
		return nil, "invalid_json"
	}
	for k, v := range body {
		var str string
		if json.Unmarshal(v, &str) == nil {
			form[k] = str
		} else {
			form[k] = string(v)
		}
	}
	return form, ""
}

// failed counts the call, notes it as a violation if its method is under
// a Retry-After, and answers it with Fail's failure if there is one.
func (s *Server) failed(w http.ResponseWriter, method string, form map[string]string) bool {
	s.mu.Lock()
	s.calls[method]++
	s.callLog = append(s.callLog, Call{Method: method, Channel: form["channel"], At: time.Now()})
	fail := s.Fail
	if now := time.Now(); now.Before(s.heldUntil[method]) && now.Sub(s.heldSince[method]) > inFlightGrace {
		s.violations = append(s.violations, fmt.Sprintf("%s %s before Retry-After ended", method, s.heldUntil[method].Sub(now).Round(time.Millisecond)))
	}
	s.mu.Unlock()
	if fail == nil {
		return false
	}
	f := fail(method, form)
	if f == nil {
		return false
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
		s.mu.Lock()
		if s.heldUntil == nil {
			s.heldUntil, s.heldSince = map[string]time.Time{}, map[string]time.Time{}
		}
		s.heldSince[method] = time.Now()
		s.heldUntil[method] = s.heldSince[method].Add(time.Duration(f.RetryAfter) * time.Second)
		s.mu.Unlock()
	}
	status := f.Status
	if status == 0 {
		status = http.StatusOK
	}
	reply(w, status, refusal(f.Error))
	return true
}

// call does one Web API method.
func (s *Server) call(w http.ResponseWriter, r *http.Request, method string, form map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notify()
	do, ok := methods[method]
	if !ok {
		reply(w, 200, refusal("unknown_method"))
		return
	}
	reply(w, 200, do(s, r, method, form))
}

// answer is a Web API answer's JSON.
type answer = map[string]any

func refusal(code string) answer { return answer{"ok": false, "error": code} }

// methods are the Web API methods the fake does; s.mu is held.
var methods = map[string]func(s *Server, r *http.Request, method string, form map[string]string) answer{
	"apps.connections.open": func(s *Server, r *http.Request, _ string, _ map[string]string) answer {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer xapp-") {
			return refusal("not_allowed_token_type")
		}
		return answer{"ok": true, "url": "ws" + strings.TrimPrefix(s.Server.URL, "http") + "/socket"}
	},
	"auth.test": func(*Server, *http.Request, string, map[string]string) answer {
		return answer{"ok": true, "user_id": "UBOT", "bot_id": "BOMBUD", "team": "Ombud"}
	},
	"chat.postMessage":             (*Server).postMessage,
	"chat.update":                  (*Server).updateMessage,
	"reactions.add":                (*Server).addReaction,
	"users.info":                   (*Server).userInfo,
	"conversations.replies":        (*Server).history,
	"conversations.history":        (*Server).history,
	"files.delete":                 (*Server).deleteFile,
	"files.completeUploadExternal": (*Server).completeUpload,
	"views.open": func(s *Server, _ *http.Request, _ string, form map[string]string) answer {
		s.views = append(s.views, form["view"])
		return answer{"ok": true, "view": answer{"id": "V1"}}
	},
	"files.getUploadURLExternal": func(s *Server, _ *http.Request, _ string, _ map[string]string) answer {
		id := "F" + s.nextTS()
		return answer{"ok": true, "upload_url": s.Server.URL + "/upload/" + id, "file_id": id}
	},
}

func (s *Server) postMessage(_ *http.Request, _ string, form map[string]string) answer {
	if form["channel"] == "" {
		return refusal("channel_not_found")
	}
	m := &Message{Channel: form["channel"], TS: s.nextTS(), ThreadTS: form["thread_ts"], Text: form["text"], Blocks: form["blocks"], Metadata: form["metadata"]}
	s.messages = append(s.messages, m)
	return answer{"ok": true, "channel": m.Channel, "ts": m.TS}
}

func (s *Server) updateMessage(_ *http.Request, _ string, form map[string]string) answer {
	for _, m := range s.messages {
		if m.Channel == form["channel"] && m.TS == form["ts"] {
			m.Text, m.Updated = form["text"], m.Updated+1
			if form["blocks"] != "" {
				m.Blocks = form["blocks"]
			}
			return answer{"ok": true, "channel": m.Channel, "ts": m.TS}
		}
	}
	return refusal("message_not_found")
}

func (s *Server) addReaction(_ *http.Request, _ string, form map[string]string) answer {
	for _, m := range s.messages {
		if m.Channel == form["channel"] && m.TS == form["timestamp"] {
			if slices.Contains(m.Reactions, form["name"]) {
				return refusal("already_reacted") // like Slack: the same reaction twice is refused
			}
			m.Reactions = append(m.Reactions, form["name"])
			return answer{"ok": true}
		}
	}
	// Agents' own messages are not posted through the API; accept the
	// reaction on them like Slack does.
	s.messages = append(s.messages, &Message{Channel: form["channel"], TS: form["timestamp"], Reactions: []string{form["name"]}, Text: "(agent message)"})
	return answer{"ok": true}
}

func (s *Server) userInfo(_ *http.Request, _ string, form map[string]string) answer {
	name, ok := s.users[form["user"]]
	if !ok {
		return refusal("user_not_found")
	}
	return answer{"ok": true, "user": answer{"id": form["user"], "name": name, "real_name": name,
		"profile": answer{"display_name": name, "real_name": name}}}
}

// history answers conversations.history and conversations.replies like
// Slack: a page at a time, at most limit (and at most PageSize), with a
// cursor to the next.
func (s *Server) history(_ *http.Request, method string, form map[string]string) answer {
	var msgs []answer
	for _, m := range s.messages {
		if m.Channel != form["channel"] || (method == "conversations.replies" && m.ThreadTS != form["ts"] && m.TS != form["ts"]) {
			continue
		}
		msg := answer{"type": "message", "ts": m.TS, "thread_ts": m.ThreadTS, "text": m.Text}
		if m.Metadata != "" {
			var meta any
			json.Unmarshal([]byte(m.Metadata), &meta)
			msg["metadata"] = meta
		}
		msgs = append(msgs, msg)
	}
	from, _ := strconv.Atoi(form["cursor"])
	limit, _ := strconv.Atoi(form["limit"])
	if limit <= 0 || limit > s.pageSize() {
		limit = s.pageSize()
	}
	from = min(from, len(msgs))
	to := min(from+limit, len(msgs))
	meta := answer{}
	if to < len(msgs) {
		meta["next_cursor"] = strconv.Itoa(to)
	}
	return answer{"ok": true, "messages": msgs[from:to], "has_more": to < len(msgs), "response_metadata": meta}
}

func (s *Server) deleteFile(_ *http.Request, _ string, form map[string]string) answer {
	for i, f := range s.fileIDs {
		if f == form["file"] {
			s.files = append(s.files[:i], s.files[i+1:]...)
			s.fileIDs = append(s.fileIDs[:i], s.fileIDs[i+1:]...)
			return answer{"ok": true}
		}
	}
	return refusal("file_not_found")
}

func (s *Server) completeUpload(_ *http.Request, _ string, form map[string]string) answer {
	var files []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	json.Unmarshal([]byte(form["files"]), &files)
	var out []answer
	for _, f := range files {
		s.files = append(s.files, f.Title)
		s.fileIDs = append(s.fileIDs, f.ID)
		out = append(out, answer{"id": f.ID, "title": f.Title})
	}
	return answer{"ok": true, "files": out}
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, "OK")
}

func reply(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

// Sign returns the headers Slack sends with a request body: the timestamp
// and the v0 HMAC-SHA256 signature of "v0:<timestamp>:<body>".
func Sign(secret string, at time.Time, body []byte) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	return h
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// socket is the Socket Mode connection: hello first, then whatever the
// test sends; acknowledgements are recorded.
func (s *Server) socket(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	conn.WriteJSON(map[string]any{"type": "hello", "num_connections": 1, "connection_info": map[string]any{"app_id": "A1"}})
	s.mu.Lock()
	s.sockets = append(s.sockets, conn)
	s.notify()
	s.mu.Unlock()
	for {
		var ack struct {
			EnvelopeID string `json:"envelope_id"`
		}
		if err := conn.ReadJSON(&ack); err != nil {
			return
		}
		s.mu.Lock()
		s.acks = append(s.acks, ack.EnvelopeID)
		s.notify()
		s.mu.Unlock()
	}
}

// Connected reports whether an app holds a Socket Mode connection.
func (s *Server) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sockets) > 0
}

// SendEnvelope sends a Socket Mode envelope ("events_api" or
// "interactive") to the connected app.
func (s *Server) SendEnvelope(envelopeID, kind string, payload any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sockets) == 0 {
		return fmt.Errorf("slacktest: no socket connection")
	}
	return s.sockets[len(s.sockets)-1].WriteJSON(map[string]any{
		"envelope_id": envelopeID, "type": kind, "payload": payload, "accepts_response_payload": kind == "interactive",
	})
}

// Acked reports whether an envelope was acknowledged.
func (s *Server) Acked(envelopeID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.acks {
		if a == envelopeID {
			return true
		}
	}
	return false
}
