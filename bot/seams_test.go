package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"ombud/bot"
	"ombud/bot/storetest"
	"ombud/dialog"
	"ombud/locales"
	"ombud/policies"
)

// webhookChannel is a whole consumer channel, as small as one can be: a
// webhook that takes {"chat","text","button"} and a sender that posts
// replies to a URL. It needs bot.Inbox and bot.Sender and nothing else.
type webhookChannel struct {
	inbox bot.Inbox
	wake  func()
	reply string // where replies are posted
	n     int
	mu    sync.Mutex
}

const webhookName = "webhook"

func (c *webhookChannel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var msg struct{ Chat, Text, Button string }
	if err := json.NewDecoder(r.Body).Decode(&msg); err != nil || msg.Chat == "" {
		http.Error(w, "bad message", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	c.n++
	in := dialog.Input{Key: fmt.Sprintf("wh:%d", c.n), Kind: dialog.InputMessage, Channel: webhookName, Chat: msg.Chat, Lang: "en", Text: msg.Text, At: time.Now()}
	c.mu.Unlock()
	if msg.Button != "" {
		in.Kind, in.Data = dialog.InputChoice, msg.Button
	} else if cmd, ok := strings.CutPrefix(msg.Text, "/"); ok {
		name, arg, _ := strings.Cut(cmd, " ")
		in.Kind, in.Command, in.Arg = dialog.InputCommand, name, arg
	}
	if _, err := c.inbox.Enqueue(nil, in); err != nil {
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	c.wake()
}

func (c *webhookChannel) Send(ctx context.Context, out dialog.Output) error {
	b, err := json.Marshal(map[string]any{"chat": out.Chat, "text": out.Text, "buttons": out.Buttons})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.reply, strings.NewReader(string(b)))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("webhook reply: %s", resp.Status)
	}
	return nil
}

// TestANewChannelAndStoreAreAdditions files a complaint through a channel
// and a store the service has never seen: the webhook channel above and
// the in-memory store. Neither needed a change anywhere else.
func TestANewChannelAndStoreAreAdditions(t *testing.T) {
	type reply struct {
		Chat    string
		Text    string
		Buttons [][]dialog.Button
	}
	replies := make(chan reply, 64)
	phone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var rep reply
		json.NewDecoder(r.Body).Decode(&rep)
		replies <- rep
	}))
	defer phone.Close()

	set, err := policies.Load(policies.Bundled(), policies.BundledDir)
	if err != nil {
		t.Fatal(err)
	}
	catalog, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	st := storetest.NewMem(nil, time.Hour)
	desk := &recorder{}
	svc := &bot.Service{Store: st, Engine: &dialog.Engine{Policies: func() *policies.Set { return set }, Catalog: catalog},
		Log: slog.New(slog.DiscardHandler), Now: time.Now, Agents: desk}
	channel := &webhookChannel{inbox: st, wake: svc.Wake, reply: phone.URL}
	svc.Consumers = map[string]bot.Sender{webhookName: channel}
	hook := httptest.NewServer(channel)
	defer hook.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx, bot.RunOptions{Poll: 20 * time.Millisecond}); close(done) }()
	defer func() { cancel(); <-done }()

	var last reply
	// say posts one message to the webhook and waits until the service has
	// handled it and sent every reply, then keeps the last reply.
	say := func(text, button string) {
		t.Helper()
		for _, row := range last.Buttons { // press what is on screen, as numbered
			for _, b := range row {
				if _, v, _ := strings.Cut(b.Data, "|"); button != "" && v == button {
					button = b.Data
				}
			}
		}
		body, _ := json.Marshal(map[string]string{"chat": "p1", "text": text, "button": button})
		resp, err := http.Post(hook.URL, "application/json", strings.NewReader(string(body)))
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("webhook: %v %v", resp, err)
		}
		resp.Body.Close()
		quiet := func() bool {
			pending, _ := st.Pending(0)
			queued, _ := st.OutboxLen()
			return len(pending) == 0 && queued == 0
		}
		for deadline := time.Now().Add(10 * time.Second); !quiet(); time.Sleep(2 * time.Millisecond) { // polling the store's state
			if time.Now().After(deadline) {
				t.Fatalf("no reply to %q %q", text, button)
			}
		}
		for len(replies) > 0 {
			last = <-replies
		}
	}
	say("/start billender", "")
	say("", "go")
	say("", "yes")
	say("2026-11-02", "")
	say("", "prior:rejected")
	for i := 0; i < 20; i++ {
		var sess dialog.Session
		st.View(func(tx bot.Tx) (err error) { sess, err = tx.Session(dialog.SessionKey(webhookName, "p1")); return err })
		if sess.State != dialog.StateField {
			break
		}
		p, _ := set.Get(sess.Issuer)
		switch f, _ := p.Field(sess.Field); f.Type {
		case policies.FieldChoice:
			say("", "choice:"+f.Choices[0].ID)
		case policies.FieldAttachments:
			say("", "done")
		case policies.FieldYesNo:
			say("", "no")
		case policies.FieldReference:
			say("", "skip")
		case policies.FieldDate:
			say("2026-11-01", "")
		case policies.FieldAmount:
			say("1 250 kr", "")
		case policies.FieldEmail:
			say("anna@example.se", "")
		case policies.FieldPhone:
			say("+46 70 123 45 67", "")
		case policies.FieldText:
			say("Anna Andersson", "")
		default:
			say("I was charged twice for one purchase in November.", "")
		}
	}
	say("", "submit")
	if !strings.Contains(last.Text, "BIL-2026-00001") {
		t.Fatalf("no receipt over the webhook channel: %q", last.Text)
	}
	var filed int
	if err := st.Complaints(func(dialog.Complaint) error { filed++; return nil }); err != nil || filed != 1 {
		t.Errorf("%d cases in the in-memory store (%v), want 1", filed, err)
	}
}
