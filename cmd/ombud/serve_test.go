package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"ombud/bot"
	"ombud/bot/telegram/telegramtest"
	"ombud/dialog"
	"ombud/policies"
	"ombud/store"
)

const testToken = "123456:TEST-token"

// stormFlag lengthens TestServeRidesOutAStorm into a soak.
var stormFlag = flag.Duration("storm", 0, "run the storm test this long, with 60 chats (default: 8 s, 20 chats)")

// step is one thing a Telegram consumer does: write text, press a button,
// or send a document.
type step struct{ text, press, doc string }

// longAnswer answers every long-text question of tgScript.
const longAnswer = "I was charged twice for the same purchase in November."

// tgScript files a complaint with issuer through buttons and answers.
func tgScript(t testing.TB, issuer string) []step {
	t.Helper()
	set, err := policies.Load(policies.Bundled(), policies.BundledDir)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := set.Get(issuer)
	steps := []step{{text: "/start " + issuer}, {press: "go"}, {press: "yes"}, {text: "2026-11-02"}, {press: "prior:rejected"}}
	chosen := map[string]string{}
	for _, f := range p.Fields {
		if f.AskIf != nil && chosen[f.AskIf.Field] != f.AskIf.Equals {
			continue // a follow-up the answers so far rule out
		}
		switch f.Type {
		case policies.FieldChoice:
			steps = append(steps, step{press: "choice:" + f.Choices[0].ID})
			chosen[f.ID] = f.Choices[0].ID
		case policies.FieldYesNo:
			steps = append(steps, step{press: "no"})
			chosen[f.ID] = "no"
		case policies.FieldAttachments:
			steps = append(steps, step{doc: "kvitto.pdf"}, step{press: "done"})
		case policies.FieldReference:
			if f.Required {
				steps = append(steps, step{text: "198504121234"})
			} else {
				steps = append(steps, step{press: "skip"})
			}
		case policies.FieldDate:
			steps = append(steps, step{text: "2026-11-01"})
		case policies.FieldEmail:
			steps = append(steps, step{text: "anna@example.se"})
		case policies.FieldText:
			steps = append(steps, step{text: "Anna Andersson"})
		case policies.FieldPhone:
			steps = append(steps, step{text: "+46 70 123 45 67"})
		case policies.FieldAmount:
			steps = append(steps, step{text: "1 250 kr"})
		default:
			steps = append(steps, step{text: longAnswer})
		}
	}
	return append(steps, step{press: "submit"})
}

// do sends one step from a chat and waits for the bot to answer it.
func do(t *testing.T, tg *telegramtest.Server, chat int64, lang string, s step) {
	t.Helper()
	before := len(tg.SentTo(chat))
	switch {
	case s.press != "":
		if !tg.PressShown(chat, lang, s.press) {
			t.Fatalf("chat %d: no button %q on screen; sent so far: %v", chat, s.press, texts(tg.SentTo(chat)))
		}
	case s.doc != "":
		tg.Document(chat, lang, s.doc)
	default:
		tg.Text(chat, lang, s.text)
	}
	if !tg.Wait(20*time.Second, func() bool { return len(tg.SentTo(chat)) > before }) {
		t.Fatalf("chat %d: no answer to %+v; sent so far: %v", chat, s, texts(tg.SentTo(chat)))
	}
}

// numbered gives each press of a script the keyboard number it will have
// when every step before it is taken: each consumer turn shows the next
// keyboard, from 1. Scripts sent without waiting for replies need it.
func numbered(steps []step) []step {
	out := slices.Clone(steps)
	for i := range out {
		if out[i].press != "" {
			out[i].press = fmt.Sprintf("%d|%s", i, out[i].press)
		}
	}
	return out
}

func texts(sent []telegramtest.Sent) []string {
	var out []string
	for _, m := range sent {
		out = append(out, firstLine(m.Text))
	}
	return out
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// newFake starts the Bot API fake; it closes after ombud serve has stopped,
// since test cleanups run last-in first-out.
func newFake(t *testing.T) *telegramtest.Server {
	tg := telegramtest.New(testToken)
	t.Cleanup(tg.Close)
	return tg
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serveInProcess runs ombud serve against the fake until the test ends.
func serveInProcess(t *testing.T, tg *telegramtest.Server, dir string, extraEnv map[string]string, args ...string) (addr string, stderr *syncBuffer) {
	t.Helper()
	addr, stderr, stop := startServe(t, tg, dir, extraEnv, args...)
	t.Cleanup(stop)
	return addr, stderr
}

// startServe runs ombud serve against the fake, waits until it is ready,
// and returns how to stop it; stopping twice is harmless.
func startServe(t *testing.T, tg *telegramtest.Server, dir string, extraEnv map[string]string, args ...string) (addr string, stderr *syncBuffer, stop func()) {
	t.Helper()
	addr, stderr, stop = launchServe(t, tg, dir, extraEnv, args...)
	if !waitHTTP(addr+"/readyz", 10*time.Second) {
		stop()
		t.Fatalf("serve never became ready:\n%s", stderr.String())
	}
	return addr, stderr, stop
}

// launchServe runs ombud serve against the fake without waiting for it.
func launchServe(t *testing.T, tg *telegramtest.Server, dir string, extraEnv map[string]string, args ...string) (addr string, stderr *syncBuffer, stop func()) {
	t.Helper()
	addr = freeAddr(t)
	env := map[string]string{"TELEGRAM_BOT_TOKEN": testToken, "TELEGRAM_API_URL": tg.APIURL()}
	for k, v := range extraEnv {
		env[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	stderr = &syncBuffer{}
	e := &Env{Stdin: strings.NewReader(""), Stdout: &syncBuffer{}, Stderr: stderr, Getenv: func(k string) string { return env[k] }, Now: time.Now}
	done := make(chan int, 1)
	args = append([]string{"serve", "--data", dir, "--http", addr, "--telegram-chat-rate", "50", "--slack-header-every", "50ms"}, args...)
	go func() { done <- Run(ctx, e, args) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case code := <-done:
				if code != 0 {
					t.Errorf("serve exited %d:\n%s", code, stderr.String())
				}
			case <-time.After(10 * time.Second):
				t.Error("serve did not stop within 10 s")
			}
		})
	}
	return addr, stderr, stop
}

func waitHTTP(url string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		time.Sleep(20 * time.Millisecond) // polling a server's readiness, not asserting time
	}
	return false
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeWithoutTokenPointsToChat(t *testing.T) {
	got := run(t, nil, "serve")
	if got.code != 2 || !strings.Contains(got.stderr, "TELEGRAM_BOT_TOKEN") || !strings.Contains(got.stderr, "ombud chat") {
		t.Fatalf("exit %d:\n%s", got.code, got.stderr)
	}
}

func TestServeFilesAComplaintOnTelegram(t *testing.T) {
	tg := newFake(t)
	_, logs := serveInProcess(t, tg, t.TempDir(), nil)
	defer func() {
		if strings.Contains(logs.String(), testToken) || strings.Contains(logs.String(), "TEST-token") {
			t.Error("the bot token appears in the logs")
		}
	}()
	const chat = 4242
	for _, s := range tgScript(t, "amex-se") {
		do(t, tg, chat, "sv", s)
	}
	sent := tg.SentTo(chat)
	receipt := sent[len(sent)-1].Text
	for _, want := range []string{"AXSE-2026-", "Ärendenummer"} {
		if !strings.Contains(receipt, want) {
			t.Fatalf("last message is not the receipt:\n%s", receipt)
		}
	}
	var withKeyboard int
	for _, m := range sent {
		if strings.Contains(m.ReplyMarkup, "callback_data") {
			withKeyboard++
		}
	}
	if withKeyboard < 4 {
		t.Errorf("only %d messages had inline keyboards", withKeyboard)
	}
	if tg.Commands("sv") == "" || tg.Commands("") == "" {
		t.Error("command menus not set")
	}
	if !tg.Wait(5*time.Second, func() bool { return tg.Calls("answerCallbackQuery") >= 4 }) {
		t.Error("button presses were not answered")
	}
	if v := tg.Violations(); len(v) > 0 {
		t.Errorf("sends during a pause: %v", v)
	}
}

func TestServeWebhook(t *testing.T) {
	tg := newFake(t)
	dir := t.TempDir()
	env := map[string]string{"TELEGRAM_WEBHOOK_URL": "https://ombud.example/telegram/webhook", "TELEGRAM_WEBHOOK_SECRET": "s3cret-Token_1"}
	httpAddr, _ := serveInProcess(t, tg, dir, env)
	if url, secret := tg.Webhook(); url != env["TELEGRAM_WEBHOOK_URL"] || secret != env["TELEGRAM_WEBHOOK_SECRET"] {
		t.Fatalf("setWebhook got %q %q", url, secret)
	}
	update := func(secret string, body string) int {
		req, _ := http.NewRequest(http.MethodPost, "http://"+httpAddr+"/telegram/webhook", strings.NewReader(body))
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	good := telegramtest.TextUpdate(77, 1, 99, "en", "/start billender")
	if code := update("wrong", string(good)); code != http.StatusUnauthorized {
		t.Errorf("forged secret: %d, want 401", code)
	}
	if code := update("", string(good)); code != http.StatusUnauthorized {
		t.Errorf("no secret: %d, want 401", code)
	}
	if code := update(env["TELEGRAM_WEBHOOK_SECRET"], "{not json"); code != http.StatusBadRequest {
		t.Errorf("malformed update: %d, want 400", code)
	}
	if code := update(env["TELEGRAM_WEBHOOK_SECRET"], string(good)); code != http.StatusOK {
		t.Fatalf("good update: %d", code)
	}
	if !tg.Wait(10*time.Second, func() bool { return len(tg.SentTo(99)) > 0 }) {
		t.Fatal("no answer to the webhook update")
	}
	if code := update(env["TELEGRAM_WEBHOOK_SECRET"], string(good)); code != http.StatusOK {
		t.Fatalf("redelivered update: %d", code)
	}
	// A later update of the same chat is handled after the redelivery, so
	// once its answer is there a wrongly handled duplicate would be too.
	marker := telegramtest.TextUpdate(78, 2, 99, "en", "/help")
	if code := update(env["TELEGRAM_WEBHOOK_SECRET"], string(marker)); code != http.StatusOK {
		t.Fatalf("marker update: %d", code)
	}
	if !tg.Wait(10*time.Second, func() bool { return len(tg.SentTo(99)) >= 2 }) {
		t.Fatal("no answer to the marker update")
	}
	if sent := tg.SentTo(99); len(sent) != 2 || !strings.Contains(sent[1].Text, "/new") {
		t.Errorf("a redelivered update was answered again: %v", texts(sent))
	}
}

// A storm of 429s delays messages but loses none, and nothing is sent
// before retry_after ends.
func TestServeRidesOutA429Storm(t *testing.T) {
	tg := newFake(t)
	var mu sync.Mutex
	refused := 0
	tg.Fail = func(method string, _ map[string]string) *telegramtest.Failure {
		mu.Lock()
		defer mu.Unlock()
		if method == "sendMessage" && refused < 3 {
			refused++
			return &telegramtest.Failure{Status: http.StatusTooManyRequests, RetryAfter: 1, Text: "Too Many Requests: retry after 1"}
		}
		return nil
	}
	serveInProcess(t, tg, t.TempDir(), nil)
	chats := []int64{11, 12, 13, 14, 15}
	for _, c := range chats {
		tg.Text(c, "en", "/start klarna-dk")
	}
	if !tg.Wait(30*time.Second, func() bool {
		for _, c := range chats {
			if len(tg.SentTo(c)) == 0 {
				return false
			}
		}
		return true
	}) {
		t.Fatalf("not every chat was answered after the storm: %d sent", len(tg.Sent()))
	}
	if v := tg.Violations(); len(v) > 0 {
		t.Errorf("sent before retry_after ended: %v", v)
	}
	for _, c := range chats {
		if n := len(tg.SentTo(c)); n != 1 {
			t.Errorf("chat %d got %d greetings", c, n)
		}
	}
}

// TestServeKilledInABurst runs ombud serve as a process, kills it with
// SIGKILL in the middle of a burst of updates from 50 chats, starts it
// again, and checks every update was handled exactly once.
func TestServeKilledInABurst(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the program as a process")
	}
	tg := newFake(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "OMBUD_RUN_MAIN=1", "TELEGRAM_BOT_TOKEN="+testToken, "TELEGRAM_API_URL="+tg.APIURL(),
			"OMBUD_ARGS=serve\x1f--data\x1f"+dir+"\x1f--http\x1f"+addr+"\x1f--telegram-rate\x1f1000")
		var stderr syncBuffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if !waitHTTP(addr+"/readyz", 20*time.Second) {
			cmd.Process.Kill()
			t.Fatalf("serve never became ready:\n%s", stderr.String())
		}
		return cmd
	}
	const chats = 50
	chatID := func(i int) int64 { return int64(7000 + i) }
	steps := []step{{text: "/start amex-se"}, {press: "go"}, {press: "yes"}, {text: "2026-11-02"}, {press: "prior:rejected"}}

	cmd := start()
	for i := range chats {
		tg.Text(chatID(i), "en", steps[0].text)
	}
	if !tg.Wait(30*time.Second, func() bool { return len(tg.Sent()) >= chats }) {
		t.Fatalf("greetings: %d of %d", len(tg.Sent()), chats)
	}
	// The burst: four updates from every chat at once, pressing buttons as
	// fast as they could appear.
	for _, s := range numbered(steps)[1:] {
		for i := range chats {
			if s.press != "" {
				tg.Press(chatID(i), "en", s.press)
			} else {
				tg.Text(chatID(i), "en", s.text)
			}
		}
	}
	want := chats * len(steps)
	tg.Wait(30*time.Second, func() bool { return len(tg.Sent()) >= chats+(want-chats)/3 })
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	killedAt := len(tg.Sent())

	cmd = start()
	finished := func() bool {
		for i := range chats {
			sent := tg.SentTo(chatID(i))
			if len(sent) == 0 || !strings.HasPrefix(sent[len(sent)-1].Text, "Question 1 of") {
				return false
			}
		}
		return true
	}
	ok := tg.Wait(60*time.Second, finished)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("stop after SIGTERM: %v", err)
	}
	if !ok {
		t.Fatalf("not every chat reached the first question after the restart (killed after %d sends)", killedAt)
	}
	if tg.Pending() != 0 {
		t.Errorf("%d updates never confirmed", tg.Pending())
	}

	// Exactly once: every chat is exactly where its five updates lead, and
	// no update was answered as if it came twice (a re-prompt).
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	repeats := 0
	for i := range chats {
		var s dialog.Session
		if err := st.View(func(tx bot.Tx) error {
			var err error
			s, err = tx.Session(dialog.SessionKey("telegram", fmt.Sprint(chatID(i))))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if s.State != dialog.StateField || s.FirstComplaint.String() != "2026-11-02" || s.PriorAnswer != dialog.PriorRejected || len(s.Answers) != 0 {
			t.Errorf("chat %d: state %s first %s prior %s answers %d", chatID(i), s.State, s.FirstComplaint, s.PriorAnswer, len(s.Answers))
		}
		sent := texts(tg.SentTo(chatID(i)))
		for _, line := range sent {
			if strings.HasPrefix(line, "Please") || strings.Contains(line, "answer yes or no") {
				t.Errorf("chat %d was re-prompted, so an update was handled twice: %v", chatID(i), sent)
			}
		}
		repeats += len(sent) - len(steps)
		if len(sent) < len(steps) {
			t.Errorf("chat %d got %d replies, want %d: %v", chatID(i), len(sent), len(steps), sent)
		}
	}
	// A reply may repeat only where its send was in flight at the kill.
	if repeats > 64 { // RunOptions.Senders: the sends that can be in flight
		t.Errorf("%d repeated replies; at most the sends in flight at the kill may repeat", repeats)
	}
	t.Logf("killed after %d of %d replies; %d replies repeated after the restart", killedAt, want, repeats)
}

// One consumer files with every issuer in turn, in one Telegram chat: each
// complaint goes to the company chosen for it, with its own case number,
// and /status lists them all.
func TestServeFilesWithEveryIssuerInOneChat(t *testing.T) {
	tg := newFake(t)
	tg.AddFile("doc-kvitto.pdf", []byte("%PDF-1.4 kvitto"))
	serveInProcess(t, tg, t.TempDir(), nil)
	const chat = 5150
	prefixes := map[string]string{"amex-dk": "AXDK", "amex-se": "AXSE", "billender": "BIL", "inkassogram": "INK", "klarna-dk": "KLDK"}
	var cases []string
	for _, issuer := range []string{"amex-dk", "klarna-dk", "amex-se", "billender", "inkassogram"} {
		for _, s := range tgScript(t, issuer) {
			do(t, tg, chat, "en", s)
		}
		sent := tg.SentTo(chat)
		receipt := sent[len(sent)-1].Text
		id := regexp.MustCompile(`[A-Z]+-2026-\d{5}`).FindString(receipt)
		if !strings.HasPrefix(id, prefixes[issuer]+"-") {
			t.Fatalf("a complaint to %s was filed as %q:\n%s", issuer, id, receipt)
		}
		cases = append(cases, id)
	}
	do(t, tg, chat, "en", step{text: "/status"})
	if !tg.Wait(10*time.Second, func() bool {
		sent := tg.SentTo(chat)
		return strings.Contains(sent[len(sent)-1].Text, "Your other complaints")
	}) {
		t.Fatalf("/status did not list the other complaints: %v", texts(tg.SentTo(chat)))
	}
	sent := tg.SentTo(chat)
	status := sent[len(sent)-2].Text + "\n" + sent[len(sent)-1].Text
	for _, id := range cases {
		if !strings.Contains(status, id) {
			t.Errorf("/status does not show %s:\n%s", id, status)
		}
	}
}

// stormPlan is a seeded fault plan for the Bot API: 429s with retry_after
// of 1-3 s, server errors and dropped connections, while on is true.
func stormPlan(seed uint64, on *atomic.Bool) func(string, map[string]string) *telegramtest.Failure {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, seed))
	return func(method string, _ map[string]string) *telegramtest.Failure {
		if !on.Load() || method == "getMe" || method == "setMyCommands" || method == "deleteWebhook" {
			return nil
		}
		mu.Lock()
		r, ra := rng.IntN(100), 1+rng.IntN(3)
		mu.Unlock()
		if method == "getUpdates" {
			if r < 5 {
				return &telegramtest.Failure{Drop: true}
			}
			return nil
		}
		switch {
		case r < 30:
			return &telegramtest.Failure{Status: http.StatusTooManyRequests, RetryAfter: ra, Text: fmt.Sprintf("Too Many Requests: retry after %d", ra)}
		case r < 40:
			return &telegramtest.Failure{Status: http.StatusBadGateway, Text: "Bad Gateway"}
		case r < 45:
			return &telegramtest.Failure{Drop: true, Done: r < 43} // some were sent before the line broke
		}
		return nil
	}
}

// telegramOverallLimit is Telegram's limit on a bot's messages in one
// second, across all chats.
const telegramOverallLimit = 30

// A storm of 429s, server errors and broken connections while consumers
// file: nothing is sent while a retry_after runs, and every consumer gets
// every answer. -storm (e.g. -storm=120s) runs it longer, with more chats.
func TestServeRidesOutAStorm(t *testing.T) {
	length, chats := 8*time.Second, 20
	if *stormFlag > 0 {
		length, chats = *stormFlag, 60
	}
	tg := newFake(t)
	var on atomic.Bool
	on.Store(true)
	tg.Fail = stormPlan(42, &on)
	serveInProcess(t, tg, t.TempDir(), nil, "--telegram-chat-rate", "1")
	steps := []step{{text: "/start amex-se"}, {press: "go"}, {press: "yes"}, {text: "2026-11-02"}, {press: "prior:rejected"}}
	stormEnds := time.Now().Add(length)
	var wg sync.WaitGroup
	errs := make(chan string, chats)
	for i := range chats {
		wg.Add(1)
		go func(chat int64) {
			defer wg.Done()
			for _, s := range steps {
				before := len(tg.SentTo(chat))
				if s.press != "" {
					// A send that broke after Telegram took it is sent again,
					// so the answer awaited may follow a repeat: wait for the
					// button itself.
					tg.Wait(time.Until(stormEnds)+60*time.Second, func() bool { _, ok := tg.Button(chat, s.press); return ok })
					if !tg.PressShown(chat, "en", s.press) {
						errs <- fmt.Sprintf("chat %d: no button %q", chat, s.press)
						return
					}
				} else {
					tg.Text(chat, "en", s.text)
				}
				// A failure bound, not a timing assertion: answers wait out
				// the storm.
				if !tg.Wait(time.Until(stormEnds)+60*time.Second, func() bool { return len(tg.SentTo(chat)) > before }) {
					errs <- fmt.Sprintf("chat %d: no answer to %+v", chat, s)
					return
				}
			}
		}(int64(9000 + i))
	}
	go func() { // the storm passes
		time.Sleep(time.Until(stormEnds)) // the length of the storm, not a wait on the server
		on.Store(false)
	}()
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if v := tg.Violations(); len(v) > 0 {
		t.Errorf("%d sends while a retry_after ran: %v", len(v), v[:min(5, len(v))])
	}
	for i := range chats {
		chat := int64(9000 + i)
		// A repeat of an earlier message may come last, so look for the
		// question anywhere.
		if !tg.Wait(10*time.Second, func() bool {
			return slices.ContainsFunc(tg.SentTo(chat), func(m telegramtest.Sent) bool { return strings.Contains(m.Text, "Question 1 of") })
		}) {
			t.Errorf("chat %d did not reach the first question: %v", chat, texts(tg.SentTo(chat)))
		}
	}
	// The overall limit holds in every second, not only on average: after
	// a pause, the senders it held must not all go at once.
	var sends []telegramtest.Call
	for _, c := range tg.CallLog() {
		if c.Method == "sendMessage" || c.Method == "sendDocument" {
			sends = append(sends, c)
		}
	}
	at := func(c telegramtest.Call) time.Time { return c.At }
	overall := top(maxInWindow(sends, time.Second, func(telegramtest.Call) string { return "" }, at))
	perChat := top(maxInWindow(sends, time.Second, func(c telegramtest.Call) string { return c.Chat }, at))
	if overall > telegramOverallLimit {
		t.Errorf("%d sends in one second, over Telegram's %d", overall, telegramOverallLimit)
	}
	t.Logf("%d chats through a %s storm: %d messages sent, %d sendMessage calls; at most %d sends in one second, %d to one chat",
		chats, length, len(tg.Sent()), tg.Calls("sendMessage"), overall, perChat)
}
