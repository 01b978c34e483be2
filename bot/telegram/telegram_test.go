package telegram

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	tgbot "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"ombud/bot"
	"ombud/bot/telegram/telegramtest"
	"ombud/dialog"
	"ombud/locales"
	"ombud/store"
)

const token = "999:unit-test"

func TestInputFromUpdates(t *testing.T) {
	private := models.Chat{ID: 5, Type: models.ChatTypePrivate}
	user := &models.User{ID: 5, LanguageCode: "sv"}
	cmd := func(text string, offset, length int) *models.Message {
		return &models.Message{ID: 1, Chat: private, From: user, Text: text,
			Entities: []models.MessageEntity{{Type: models.MessageEntityTypeBotCommand, Offset: offset, Length: length}}}
	}
	tests := []struct {
		name   string
		u      models.Update
		ok     bool
		kind   dialog.InputKind
		cmd    string
		arg    string
		text   string
		edited bool
	}{
		{"text", models.Update{ID: 1, Message: &models.Message{ID: 3, Chat: private, From: user, Text: "hej"}}, true, dialog.InputMessage, "", "", "hej", false},
		{"deep link", models.Update{ID: 2, Message: cmd("/start amex-se", 0, 6)}, true, dialog.InputCommand, "start", "amex-se", "", false},
		{"command with bot name", models.Update{ID: 3, Message: cmd("/status@ombud_bot", 0, 17)}, true, dialog.InputCommand, "status", "", "", false},
		// "hallå " is 6 UTF-16 units but 7 bytes: a byte offset would miss it.
		{"after non-ASCII text", models.Update{ID: 4, Message: cmd("hallå /status", 6, 7)}, true, dialog.InputCommand, "status", "", "", false},
		{"after an emoji", models.Update{ID: 5, Message: cmd("😀 /back", 3, 5)}, true, dialog.InputCommand, "back", "", "", false},
		{"forged entity past the end", models.Update{ID: 6, Message: cmd("/x", 0, 100)}, true, dialog.InputMessage, "", "", "/x", false},
		{"unknown command is text", models.Update{ID: 7, Message: cmd("/klaga nu", 0, 6)}, true, dialog.InputMessage, "", "", "/klaga nu", false},
		{"edited", models.Update{ID: 8, EditedMessage: &models.Message{ID: 3, Chat: private, From: user, Text: "hej då"}}, true, dialog.InputMessage, "", "", "hej då", true},
		{"button", models.Update{ID: 9, CallbackQuery: &models.CallbackQuery{ID: "q", Data: "yes", From: *user,
			Message: models.MaybeInaccessibleMessage{Message: &models.Message{Chat: private}}}}, true, dialog.InputChoice, "", "", "", false},
		{"group message ignored", models.Update{ID: 10, Message: &models.Message{Chat: models.Chat{ID: -1, Type: models.ChatTypeGroup}, Text: "hej"}}, false, "", "", "", "", false},
		{"reaction ignored", models.Update{ID: 11}, false, "", "", "", "", false},
		{"a sticker is answered", models.Update{ID: 12, Message: &models.Message{ID: 4, Chat: private, From: user, Sticker: &models.Sticker{FileID: "s"}}}, true, dialog.InputMessage, "", "", "", false},
		{"a location is answered", models.Update{ID: 13, Message: &models.Message{ID: 5, Chat: private, From: user, Location: &models.Location{Latitude: 59.3}}}, true, dialog.InputMessage, "", "", "", false},
		{"a contact is answered", models.Update{ID: 14, Message: &models.Message{ID: 6, Chat: private, From: user, Contact: &models.Contact{PhoneNumber: "+46"}}}, true, dialog.InputMessage, "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, ok := Input(tt.u, time.Now())
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if in.Kind != tt.kind || in.Command != tt.cmd || in.Arg != tt.arg || in.Text != tt.text || in.Edited != tt.edited {
				t.Errorf("got %+v", in)
			}
			if strings.HasPrefix(tt.name, "a ") && in.Unsupported == "" {
				t.Errorf("%s not marked unsupported: %+v", tt.name, in)
			}
			if in.Chat != "5" || in.Channel != Channel || !strings.HasPrefix(in.Key, "tg:") {
				t.Errorf("addressing: %+v", in)
			}
		})
	}
}

func TestInputAttachments(t *testing.T) {
	chat := models.Chat{ID: 5, Type: models.ChatTypePrivate}
	in, ok := Input(models.Update{ID: 1, Message: &models.Message{Chat: chat, Caption: "kvittot",
		Photo: []models.PhotoSize{{FileID: "small", FileSize: 100}, {FileID: "large", FileSize: 90000}}}}, time.Now())
	if !ok || in.Attachment == nil || in.Attachment.FileID != "large" || in.Text != "kvittot" {
		t.Errorf("photo: %+v %+v", in, in.Attachment)
	}
	in, ok = Input(models.Update{ID: 2, Message: &models.Message{Chat: chat,
		Document: &models.Document{FileID: "d", FileName: "avtal.pdf", MimeType: "application/pdf", FileSize: 30 << 20}}}, time.Now())
	if !ok || in.Attachment.Size != 30<<20 || in.Attachment.Name != "avtal.pdf" {
		t.Errorf("document: %+v", in.Attachment)
	}
}

func TestSplit(t *testing.T) {
	lines := strings.Repeat("En rad med text som är ganska lång. 😀\n", 200)
	parts := split(lines, 4096)
	if len(parts) < 2 {
		t.Fatalf("%d parts", len(parts))
	}
	var joined strings.Builder
	for _, p := range parts {
		p = strings.TrimSuffix(p, "\n")
		if n := utf16Len(p); n > 4096 || n == 0 {
			t.Errorf("part of %d UTF-16 units", n)
		}
		if !strings.HasSuffix(p, "😀") {
			t.Errorf("part not cut at a line break: ...%q", p[max(0, len(p)-20):])
		}
		joined.WriteString(p + "\n")
	}
	if joined.String() != lines {
		t.Logf("joined %d bytes, original %d", joined.Len(), len(lines))
		t.Error("splitting lost or changed text")
	}
	if got := split(strings.Repeat("x", 5000), 4096); len(got) != 2 || len(got[0]) != 4096 {
		t.Errorf("a long line without breaks: %d parts", len(got))
	}
	if got := split("kort", 4096); len(got) != 1 || got[0] != "kort" {
		t.Errorf("short text: %q", got)
	}
}

func newClient(t *testing.T, fake *telegramtest.Server, st *store.Store) *Client {
	t.Helper()
	c, err := New(Config{Token: token, APIURL: fake.APIURL(), Store: st, ChatRate: 100, GlobalRate: 100, PollTimeout: time.Second,
		Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestSendClassifiesAnswers(t *testing.T) {
	fake := telegramtest.New(token)
	defer fake.Close()
	c := newClient(t, fake, nil)
	out := dialog.Output{To: dialog.ToConsumer, Channel: Channel, Chat: "77", Text: strings.Repeat("rad\n", 2000), Key: "k",
		Buttons: [][]dialog.Button{{{Label: "Ja", Data: "yes"}, {Label: "Nej", Data: "no"}}}}
	if err := c.Send(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	sent := fake.SentTo(77)
	if len(sent) != 2 || sent[0].ReplyMarkup != "" || !strings.Contains(sent[1].ReplyMarkup, `"callback_data":"yes"`) {
		t.Errorf("long message: %d parts, keyboards %q %q", len(sent), sent[0].ReplyMarkup, sent[len(sent)-1].ReplyMarkup)
	}

	for _, tt := range []struct {
		fail  telegramtest.Failure
		check func(error) bool
	}{
		{telegramtest.Failure{Status: 403, Text: "Forbidden: bot was blocked by the user"}, func(err error) bool {
			// The token is taken out of the text, not out of the chain:
			// Telegram's own answer is still there to be asked.
			return errors.Is(err, bot.ErrUndeliverable) && errors.Is(err, tgbot.ErrorForbidden)
		}},
		{telegramtest.Failure{Status: 400, Text: "Bad Request: chat not found"}, func(err error) bool { return errors.Is(err, bot.ErrUndeliverable) }},
		{telegramtest.Failure{Status: 429, RetryAfter: 1, Text: "Too Many Requests: retry after 1"}, func(err error) bool {
			var r *bot.RetryAfterError
			return errors.As(err, &r) && r.Wait == time.Second
		}},
		{telegramtest.Failure{Status: 400, Text: "Bad Request: BUTTON_DATA_INVALID"}, func(err error) bool {
			return errors.Is(err, bot.ErrRejected) && !errors.Is(err, bot.ErrUndeliverable) && errors.Is(err, tgbot.ErrorBadRequest)
		}},
		{telegramtest.Failure{Status: 502, Text: "Bad Gateway"}, func(err error) bool {
			var r *bot.RetryAfterError
			return err != nil && !errors.Is(err, bot.ErrUndeliverable) && !errors.As(err, &r)
		}},
	} {
		f := tt.fail
		fake.Fail = func(string, map[string]string) *telegramtest.Failure { return &f }
		err := c.Send(context.Background(), dialog.Output{Chat: "77", Text: "hej"})
		if !tt.check(err) {
			t.Errorf("%d %s: got %v", f.Status, f.Text, err)
		}
		if err != nil && strings.Contains(err.Error(), token) {
			t.Errorf("error leaks the token: %v", err)
		}
	}
	fake.Fail = nil
	// After the 429 the bot waits out retry_after before its next send.
	if err := c.Send(context.Background(), dialog.Output{Chat: "78", Text: "efter pausen"}); err != nil {
		t.Fatal(err)
	}
	if v := fake.Violations(); len(v) > 0 {
		t.Errorf("sent during the pause: %v", v)
	}
}

func TestPollStoresBeforeConfirming(t *testing.T) {
	fake := telegramtest.New(token)
	defer fake.Close()
	st := openStore(t)
	ids := []int64{fake.Text(1, "da", "/start klarna-dk"), fake.Press(1, "da", "go"), fake.Text(2, "en", "hello")}

	poll := func() {
		ctx, cancel := context.WithCancel(context.Background())
		c := newClient(t, fake, st)
		done := make(chan error, 1)
		go func() { done <- c.Poll(ctx) }()
		if !fake.Wait(10*time.Second, func() bool {
			items, _ := st.Pending(0)
			return len(items) == len(ids) && fake.Pending() == 0
		}) {
			items, err := st.Pending(0)
			t.Fatalf("updates not stored and confirmed: fake pending %d, store %d %v", fake.Pending(), len(items), err)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	poll()
	if !fake.Wait(5*time.Second, func() bool { return fake.Calls("answerCallbackQuery") == 1 }) {
		t.Error("the button press was not answered")
	}
	// A second poller on the same store starts from the stored offset and
	// the inbox refuses a redelivered update.
	if _, err := st.Enqueue(nil, dialog.Input{Key: "tg:" + itoa(ids[0]), Kind: dialog.InputMessage}); err != nil {
		t.Fatal(err)
	}
	poll()
	items, _ := st.Pending(0)
	if len(items) != len(ids) {
		t.Errorf("inbox has %d items, want %d", len(items), len(ids))
	}
	if off, _, ok, _ := st.Cursor(cursorName); !ok || off != ids[len(ids)-1]+1 {
		t.Errorf("stored offset %d, want %d", off, ids[len(ids)-1]+1)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestWebhookHandler(t *testing.T) {
	fake := telegramtest.New(token)
	defer fake.Close()
	st := openStore(t)
	c := newClient(t, fake, st)
	h := c.WebhookHandler("right-secret")
	post := func(secret, body string) int {
		req := httptest.NewRequest(http.MethodPost, "/telegram/webhook", strings.NewReader(body))
		if secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	update := `{"update_id":5,"message":{"message_id":1,"date":1,"chat":{"id":8,"type":"private"},"text":"hej"}}`
	for _, tt := range []struct {
		secret, body string
		want         int
	}{
		{"wrong-secret", update, 401},
		{"", update, 401},
		{"right-secret", "{", 400},
		{"right-secret", `{"update_id":0}`, 400},
		{"right-secret", `{"update_id":6,"message":{"text":"` + strings.Repeat("x", 2<<20) + `"}}`, 413},
	} {
		if got := post(tt.secret, tt.body); got != tt.want {
			t.Errorf("secret %q body %.20q: %d, want %d", tt.secret, tt.body, got, tt.want)
		}
	}
	if items, _ := st.Pending(0); len(items) != 0 {
		t.Fatalf("refused requests changed the inbox: %v", items)
	}
	if got := post("right-secret", update); got != 200 {
		t.Fatalf("good update: %d", got)
	}
	if items, _ := st.Pending(0); len(items) != 1 || items[0].Input.Text != "hej" {
		t.Errorf("inbox: %+v", items)
	}
}

func TestSetCommands(t *testing.T) {
	fake := telegramtest.New(token)
	defer fake.Close()
	cat, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	if err := newClient(t, fake, nil).SetCommands(context.Background(), cat); err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string]string{"": "status=See where my complaints stand", "sv": "status=Se hur det går med mina klagomål", "da": "new=", "en": "help=Help"} {
		if got := fake.Commands(lang); !strings.Contains(got, want) {
			t.Errorf("commands %q = %q, want %q", lang, got, want)
		}
	}
}

func TestCheckReportsARefusedToken(t *testing.T) {
	fake := telegramtest.New("other:token")
	defer fake.Close()
	_, err := newClient(t, fake, nil).Check(context.Background())
	if err == nil || !strings.Contains(err.Error(), "TELEGRAM_BOT_TOKEN") || strings.Contains(err.Error(), token) {
		t.Errorf("Check = %v", err)
	}
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// A document's caption is limited to 1024 characters: a longer text goes
// first as a message, and the document after it.
func TestDocumentWithALongText(t *testing.T) {
	fake := telegramtest.New(token)
	defer fake.Close()
	c := newClient(t, fake, nil)
	for _, text := range []string{"Here is your data.", strings.Repeat("Här är dina uppgifter. ", 60)} {
		out := dialog.Output{To: dialog.ToConsumer, Channel: Channel, Chat: "78", Text: text, Key: "privacy.export",
			Document: &dialog.Document{Name: "ombud-mydata.json", MIME: "application/json", Data: []byte("{}")}}
		if err := c.Send(context.Background(), out); err != nil {
			t.Fatalf("%d characters: %v", len(text), err)
		}
	}
	sent := fake.SentTo(78)
	if len(sent) != 3 || sent[0].Text != "Here is your data." || sent[0].DocumentName == "" ||
		sent[1].DocumentName != "" || !strings.HasPrefix(sent[1].Text, "Här är") || sent[2].DocumentName != "ombud-mydata.json" || sent[2].Text != "" {
		t.Errorf("sent %+v", sent)
	}
}

// An offset stored more than a week ago is not used: Telegram has
// renumbered its updates since, and the old offset would confirm the new,
// lower ids without fetching them.
func TestStaleOffsetIsNotTrusted(t *testing.T) {
	fake := telegramtest.New(token)
	defer fake.Close()
	dir := t.TempDir()
	weekAgo := time.Now().Add(-8 * 24 * time.Hour)
	st, err := store.Open(dir, store.Options{Now: func() time.Time { return weekAgo }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Enqueue(&bot.Cursor{Name: cursorName, Value: 1000}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fake.Renumber(500)
	fake.Text(31, "sv", "hej")
	c := newClient(t, fake, st)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Poll(ctx) }()
	if !fake.Wait(5*time.Second, func() bool {
		items, _ := st.Pending(0)
		return len(items) == 1
	}) {
		items, _ := st.Pending(0)
		t.Errorf("the renumbered update was not fetched: %d in the inbox", len(items))
	}
	cancel()
	<-done
}
