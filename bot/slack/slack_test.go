package slack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"ombud/bot"
	"ombud/bot/slack/slacktest"
	"ombud/dialog"
	"ombud/locales"
	"ombud/policies"
	"ombud/store"
)

func TestParseDesks(t *testing.T) {
	got, err := ParseDesks(" amex-se=C1, klarna-dk = C2:da ,")
	if err != nil || got["amex-se"] != (Desk{Channel: "C1"}) || got["klarna-dk"] != (Desk{Channel: "C2", Lang: "da"}) || len(got) != 2 {
		t.Errorf("ParseDesks = %v, %v", got, err)
	}
	for _, bad := range []string{"amex-se", "=C1", "amex-se=", "amex-se=:sv"} {
		if _, err := ParseDesks(bad); err == nil {
			t.Errorf("ParseDesks(%q) accepted", bad)
		}
	}
}

func TestEscape(t *testing.T) {
	in := "<!channel> a&b <@U999> <https://evil|click>"
	want := "&lt;!channel&gt; a&amp;b &lt;@U999&gt; &lt;https://evil|click&gt;"
	if got := escape(in); got != want {
		t.Errorf("escape = %q", got)
	}
	if got := unescape(want); got != in {
		t.Errorf("unescape = %q", got)
	}
}

func TestClassify(t *testing.T) {
	var retry *bot.RetryAfterError
	if err := classify(&slack.RateLimitedError{RetryAfter: 7 * time.Second}); !errors.As(err, &retry) || retry.Wait != 7*time.Second {
		t.Errorf("rate limited: %v", err)
	}
	wrapped := fmt.Errorf("post: %w", slack.SlackErrorResponse{Err: "channel_not_found"})
	if err := classify(wrapped); !errors.Is(err, bot.ErrUndeliverable) || !errors.As(err, new(slack.SlackErrorResponse)) {
		t.Errorf("channel_not_found: %v, want undeliverable with Slack's answer kept", err)
	}
	if err := classify(slack.SlackErrorResponse{Err: "internal_error"}); errors.Is(err, bot.ErrUndeliverable) || errors.Is(err, bot.ErrRejected) || errors.As(err, &retry) {
		t.Errorf("a transient error was made permanent: %v", err)
	}
	if err := classify(slack.SlackErrorResponse{Err: "invalid_blocks"}); !errors.Is(err, bot.ErrRejected) {
		t.Errorf("a refusal is retried: %v", err)
	}
	// Only Slack's own answer counts: a network error that happens to
	// mention a code is tried again.
	if err := classify(errors.New("dial tcp: lookup channel_not_found.example: no such host")); errors.Is(err, bot.ErrUndeliverable) || errors.Is(err, bot.ErrRejected) {
		t.Errorf("a network error was taken for Slack's refusal: %v", err)
	}
	if !done(fmt.Errorf("react: %w", slack.SlackErrorResponse{Err: "already_reacted"})) || done(errors.New("already_reacted")) {
		t.Error("done must read Slack's answer, not the text of any error")
	}
}

type desk struct {
	c      *Client
	engine *dialog.Engine
	fake   *slacktest.Server
	st     *store.Store
}

func newDesk(t *testing.T) desk {
	t.Helper()
	fake := slacktest.New("xoxb-unit")
	t.Cleanup(fake.Close)
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	set, err := policies.Load(policies.Bundled(), policies.BundledDir)
	if err != nil {
		t.Fatal(err)
	}
	catalog, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	engine := &dialog.Engine{Policies: func() *policies.Set { return set }, Catalog: catalog}
	c, err := New(Config{Token: "xoxb-unit", APIURL: fake.APIURL(), SigningSecret: "shh", DefaultDesk: Desk{Channel: "C1"},
		Inbox: st, Refs: st, Catalog: catalog, View: func(id string) (dialog.CaseView, error) {
			var comp dialog.Complaint
			err := st.View(func(tx bot.Tx) (err error) { comp, err = tx.Complaint(id); return err })
			return engine.CaseView(comp, time.Now()), err
		},
		ChannelRate: 100, TierScale: 100, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close) // before the store closes
	if err := c.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A filed case to post about.
	received := time.Date(2026, 12, 18, 9, 0, 0, 0, time.UTC)
	comp := dialog.Complaint{ID: "AXSE-2026-00007", Issuer: "amex-se", Status: dialog.CaseSubmitted, Lang: "sv",
		ReceivedAt: received, ReceivedDate: policies.Date{Year: 2026, Month: 12, Day: 18}, Channel: "telegram", Chat: "1",
		Answers: []dialog.FiledAnswer{{Question: "Vad hände?", Display: "<!here> dubbel debitering"}}}
	if err := st.Update(func(tx bot.Tx) error { return tx.PutComplaint(comp) }); err != nil {
		t.Fatal(err)
	}
	return desk{c, engine, fake, st}
}

func TestSendOpensThreadThenPostsInIt(t *testing.T) {
	d := newDesk(t)
	ctx := context.Background()
	if err := d.c.Send(ctx, dialog.Output{To: dialog.ToAgents, Case: "AXSE-2026-00007", Notice: dialog.NoticeCaseOpened, Key: "agent.case_new", Text: "new", ID: "1"}); err != nil {
		t.Fatal(err)
	}
	msgs := d.fake.Messages("C1")
	// Blocks are JSON, where < and & are written \u003c and \u0026.
	if len(msgs) != 1 || strings.Contains(msgs[0].Blocks, `\u003c!here`) || !strings.Contains(msgs[0].Blocks, `\u0026lt;!here\u0026gt;`) {
		t.Fatalf("root: %+v", msgs)
	}
	if err := d.c.Send(ctx, dialog.Output{To: dialog.ToAgents, Case: "AXSE-2026-00007", Key: "agent.note_saved", Text: "Note saved", ID: "2"}); err != nil {
		t.Fatal(err)
	}
	if got := d.fake.Thread("C1", msgs[0].TS); len(got) != 1 || got[0].Text != "Note saved" {
		t.Errorf("thread: %+v", got)
	}
	// The header is redrawn on its own, after the post.
	if !d.fake.Wait(5*time.Second, func() bool { root, _ := d.fake.Message("C1", msgs[0].TS); return root.Updated == 1 }) {
		root, _ := d.fake.Message("C1", msgs[0].TS)
		t.Errorf("header updated %d times, want 1", root.Updated)
	}
}

// A post whose answer was lost is found by its outbox id on the retry,
// not posted twice.
func TestRetryAfterALostAnswerDoesNotPostTwice(t *testing.T) {
	d := newDesk(t)
	ctx := context.Background()
	out := dialog.Output{To: dialog.ToAgents, Case: "AXSE-2026-00007", Notice: dialog.NoticeCaseOpened, Key: "agent.case_new", Text: "new", ID: "1"}
	if err := d.c.Send(ctx, out); err != nil {
		t.Fatal(err)
	}
	root := d.fake.Messages("C1")[0]
	lost := true
	d.fake.LoseAnswer = func(method string) bool {
		if method == "chat.postMessage" && lost {
			lost = false
			return true
		}
		return false
	}
	reply := dialog.Output{To: dialog.ToAgents, Case: "AXSE-2026-00007", Key: "agent.consumer_message", Text: "Consumer on case: hej", ID: "9"}
	if err := d.c.Send(ctx, reply); err == nil {
		t.Fatal("a lost answer looked like success")
	}
	if err := d.c.Send(ctx, reply); err != nil {
		t.Fatal(err)
	}
	if got := d.fake.Thread("C1", root.TS); len(got) != 1 {
		t.Errorf("thread has %d messages after the retry, want 1", len(got))
	}
}

func TestEventsAreVerifiedAndFiltered(t *testing.T) {
	d := newDesk(t)
	ctx := context.Background()
	if err := d.c.Send(ctx, dialog.Output{To: dialog.ToAgents, Case: "AXSE-2026-00007", Notice: dialog.NoticeCaseOpened, Key: "agent.case_new", Text: "new", ID: "1"}); err != nil {
		t.Fatal(err)
	}
	root := d.fake.Messages("C1")[0]
	h := d.c.EventsHandler()
	post := func(body string, signedWith string) int {
		req := httptest.NewRequest(http.MethodPost, "/slack/events", strings.NewReader(body))
		for k, v := range slacktest.Sign(signedWith, time.Now(), []byte(body)) {
			req.Header[k] = v
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	challenge := `{"type":"url_verification","challenge":"abc123","token":"x"}`
	req := httptest.NewRequest(http.MethodPost, "/slack/events", strings.NewReader(challenge))
	for k, v := range slacktest.Sign("shh", time.Now(), []byte(challenge)) {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Body.String() != "abc123" {
		t.Errorf("url_verification: %d %q", rec.Code, rec.Body.String())
	}
	if code := post(challenge, "wrong"); code != 401 {
		t.Errorf("unsigned challenge: %d", code)
	}
	ev := func(id, extra string) string {
		return `{"type":"event_callback","event_id":"` + id + `","event":{"type":"message","channel":"C1","ts":"1.5","thread_ts":"` + root.TS + `","text":"hej"` + extra + `}}`
	}
	for _, body := range []string{
		ev("E1", `,"bot_id":"B1","subtype":"bot_message"`),           // a bot
		ev("E2", `,"user":"U1","subtype":"message_changed"`),         // an edit
		strings.Replace(ev("E3", `,"user":"U1"`), `"C1"`, `"C9"`, 1), // another channel
		strings.Replace(ev("E4", `,"user":"U1"`), root.TS, "9.9", 1), // not a case thread
	} {
		if code := post(body, "shh"); code != 200 {
			t.Errorf("event: %d", code)
		}
	}
	if items, _ := d.st.Pending(0); len(items) != 0 {
		t.Errorf("ignored events reached the inbox: %+v", items)
	}
	if code := post(ev("E5", `,"user":"U1"`), "shh"); code != 200 {
		t.Fatal(code)
	}
	// A reply with a file is still a reply.
	if code := post(strings.Replace(ev("E6", `,"user":"U1","subtype":"file_share"`), `"ts":"1.5"`, `"ts":"1.6"`, 1), "shh"); code != 200 {
		t.Fatal(code)
	}
	items, _ := d.st.Pending(0)
	if len(items) != 2 || items[1].Input.Ref != "slack:C1:1.6" {
		t.Errorf("a reply with a file was not queued: %+v", items)
	}
	items = items[:1]
	if len(items) != 1 || items[0].Input.Case != "AXSE-2026-00007" || items[0].Input.Agent.Action != dialog.ActionReply || items[0].Input.Ref != "slack:C1:1.5" {
		t.Errorf("agent reply input: %+v", items)
	}
}

func TestHeaderButtonsFollowTheStatus(t *testing.T) {
	d := newDesk(t)
	for status, want := range map[dialog.CaseStatus][]string{
		dialog.CaseSubmitted:  {"ombud_claim", "ombud_hold", "ombud_decide", "ombud_close"},
		dialog.CaseInProgress: {"ombud_claim", "ombud_hold", "ombud_decide", "ombud_close"},
		// A case extended once cannot be extended again.
		dialog.CaseExtended: {"ombud_claim", "ombud_decide", "ombud_close"},
		dialog.CaseDecided:  {"ombud_close", "ombud_reopen"},
		dialog.CaseClosed:   {"ombud_reopen"},
	} {
		blocks := d.c.header(d.engine.CaseView(dialog.Complaint{ID: "X-1", Issuer: "amex-se", Status: status}, time.Now()))
		var ids []string
		for _, b := range blocks {
			if a, ok := b.(*slack.ActionBlock); ok {
				for _, e := range a.Elements.ElementSet {
					ids = append(ids, e.(*slack.ButtonBlockElement).ActionID)
				}
			}
		}
		if strings.Join(ids, " ") != strings.Join(want, " ") {
			t.Errorf("%s: buttons %v, want %v", status, ids, want)
		}
	}
}

// A reply that comes before the thread is linked to its case (the agent
// was quicker than the record, or a crash came between the post and the
// record) is queued for the case its root names, not dropped.
func TestReplyInAThreadNotYetLinked(t *testing.T) {
	d := newDesk(t)
	// The root as the desk posts it, before the link is recorded.
	if _, _, err := d.c.api.PostMessageContext(context.Background(), "C1", slack.MsgOptionText("AXSE-2026-00007", false),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: metadataType, EventPayload: map[string]any{"outbox": "1", "case": "AXSE-2026-00007"}})); err != nil {
		t.Fatal(err)
	}
	root := d.fake.Messages("C1")[0]
	body := `{"type":"event_callback","event_id":"E9","event":{"type":"message","channel":"C1","user":"U1","ts":"2.5","thread_ts":"` + root.TS + `","text":"Vi tittar på det."}}`
	req := httptest.NewRequest(http.MethodPost, "/slack/events", strings.NewReader(body))
	for k, v := range slacktest.Sign("shh", time.Now(), []byte(body)) {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	d.c.EventsHandler().ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("event: %d", rec.Code)
	}
	items, _ := d.st.Pending(0)
	if len(items) != 1 || items[0].Input.Case != "AXSE-2026-00007" {
		t.Fatalf("the reply was not queued for its case: %+v", items)
	}
	if id, ok, _ := d.st.Ref(refCase, "C1 "+root.TS); !ok || id != "AXSE-2026-00007" {
		t.Errorf("the thread is still not linked: %q %v", id, ok)
	}

	// Slack down while the case is looked up: the event is refused, so
	// Slack delivers it again, rather than acknowledged and lost.
	d.fake.Close()
	body = strings.Replace(strings.Replace(body, "E9", "E10", 1), `"thread_ts":"`+root.TS, `"thread_ts":"7.7`, 1)
	req = httptest.NewRequest(http.MethodPost, "/slack/events", strings.NewReader(body))
	for k, v := range slacktest.Sign("shh", time.Now(), []byte(body)) {
		req.Header[k] = v
	}
	rec = httptest.NewRecorder()
	d.c.EventsHandler().ServeHTTP(rec, req)
	if rec.Code < 500 {
		t.Errorf("an event whose case could not be looked up was acknowledged: %d", rec.Code)
	}
}

// Errors that mean the work is done are success; Slack's refusals are
// dropped, not retried in a loop; an empty file is posted as a note.
func TestDoneAndRefusedCalls(t *testing.T) {
	d := newDesk(t)
	ctx := context.Background()
	mark := dialog.Output{To: dialog.ToAgents, Case: "AXSE-2026-00007", Notice: dialog.NoticeDelivered, Receipt: "slack:C1:5.5"}
	for i := 0; i < 2; i++ {
		if err := d.c.Send(ctx, mark); err != nil {
			t.Fatalf("mark %d: %v", i+1, err)
		}
	}
	if n := d.fake.Calls("reactions.add"); n != 2 {
		t.Errorf("reactions.add called %d times", n)
	}
	if err := classify(slack.SlackErrorResponse{Err: "invalid_blocks"}); !errors.Is(err, bot.ErrRejected) {
		t.Errorf("invalid_blocks: %v, want a refusal", err)
	}
	if err := classify(slack.SlackErrorResponse{Err: "internal_error"}); errors.Is(err, bot.ErrRejected) || errors.Is(err, bot.ErrUndeliverable) {
		t.Errorf("internal_error made permanent: %v", err)
	}
	d.c.cfg.Files = func(context.Context, string, string) (io.ReadCloser, int64, error) {
		return io.NopCloser(strings.NewReader("")), 0, nil
	}
	empty := dialog.Output{To: dialog.ToAgents, Case: "AXSE-2026-00007", Key: "agent.attachment", Text: "the consumer sent empty.pdf", ID: "9",
		Attachment: &dialog.Attachment{FileID: "f0", Name: "empty.pdf"}}
	if err := d.c.Send(ctx, empty); err != nil {
		t.Fatalf("an empty file: %v", err)
	}
}

// An agent's reply reaches the consumer without Slack's markup: links as
// "label (address)", people by name, channels by name, no @here.
func TestAgentMarkupBecomesPlainText(t *testing.T) {
	d := newDesk(t)
	d.fake.AddUser("U42", "Eva Lund")
	tests := map[string]string{
		"Se <https://www.arn.se/anmal|ARN:s formulär> &amp; villkoren.":           "Se ARN:s formulär (https://www.arn.se/anmal) & villkoren.",
		"Läs <https://www.arn.se>.":                                               "Läs https://www.arn.se.",
		"<@U42> tar över ärendet.":                                                "Eva Lund tar över ärendet.",
		"<@U42|eva> svarar.":                                                      "eva svarar.",
		"Se kanalen <#C0123|klagomal>.":                                           "Se kanalen #klagomal.",
		"<!here> Vi har rättat beloppet.\nMvh":                                    "Vi har rättat beloppet.\nMvh",
		"Skriv till <mailto:klagomal@example.se|klagomal@example.se>.":            "Skriv till klagomal@example.se.",
		"1 &lt; 2 och a &gt; b, &amp;lt; är text":                                 "1 < 2 och a > b, &lt; är text",
		"<!subteam^S1|@klagomal> tittar på det, <!date^1700000000^{date}|15 nov>": "@klagomal tittar på det, 15 nov",
	}
	for in, want := range tests {
		if got := d.c.plain(context.Background(), in); got != want {
			t.Errorf("plain(%q) = %q, want %q", in, got, want)
		}
	}
}

// A 429's Retry-After holds every call of that method, those already
// waiting included; a busy case's header changes fold into few redraws;
// threads longer than a page are read to the end.
func TestPacingByMethodAndHeaderRedraws(t *testing.T) {
	d := newDesk(t)
	d.c.cfg.HeaderEvery = 300 * time.Millisecond
	ctx := context.Background()
	if err := d.c.Send(ctx, dialog.Output{To: dialog.ToAgents, Case: "AXSE-2026-00007", Notice: dialog.NoticeCaseOpened, Key: "agent.case_new", Text: "new", ID: "1"}); err != nil {
		t.Fatal(err)
	}
	root := d.fake.Messages("C1")[0]
	refused := false
	d.fake.Fail = func(method string, _ map[string]string) *slacktest.Failure {
		if method == "chat.update" && !refused {
			refused = true
			return &slacktest.Failure{Status: 429, RetryAfter: 1, Error: "ratelimited"}
		}
		return nil
	}
	// Twenty changes to the case in a burst.
	for i := 0; i < 20; i++ {
		out := dialog.Output{To: dialog.ToAgents, Case: "AXSE-2026-00007", Key: "agent.note_saved", Text: "Note", ID: fmt.Sprint(10 + i)}
		if err := d.c.Send(ctx, out); err != nil {
			t.Fatalf("a change whose header could not be redrawn: %v", err)
		}
	}
	if !d.fake.Wait(10*time.Second, func() bool {
		m, _ := d.fake.Message("C1", root.TS)
		return m.Updated >= 1
	}) {
		t.Fatalf("the header was not redrawn after the Retry-After: %d chat.update calls", d.fake.Calls("chat.update"))
	}
	if n := d.fake.Calls("chat.update"); n > 4 {
		t.Errorf("%d chat.update calls for twenty changes in a burst", n)
	}
	if v := d.fake.Violations(); len(v) > 0 {
		t.Errorf("calls inside a Retry-After: %v", v)
	}

	// Redaction reads the whole thread, page after page.
	d.fake.PageSize = 3
	if err := d.c.redact(ctx, "C1", root.TS, "AXSE-2026-00007", ""); err != nil {
		t.Fatal(err)
	}
	for _, m := range d.fake.Thread("C1", root.TS) {
		if m.Text != "[erased at the consumer's request]" {
			t.Errorf("a message past the first page was not redacted: %q", m.Text)
		}
	}
}

// Calls held by a Retry-After go on at their method's pace when it ends,
// not all at once: each takes its place under the tier again.
func TestHeldCallsResumeAtTheirPace(t *testing.T) {
	d := newDesk(t)
	d.c.holdMethod("reactions.add", 300*time.Millisecond)
	const calls = 10
	var mu sync.Mutex
	var at []time.Time
	var wg sync.WaitGroup
	for range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.c.call(context.Background(), "reactions.add", func() error {
				mu.Lock()
				at = append(at, time.Now())
				mu.Unlock()
				return nil
			})
		}()
	}
	wg.Wait()
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	// Tier 3 at TierScale 100 is 83 calls a second with a burst of 3: the
	// seven calls past the burst need at least 84 ms. A slow machine only
	// stretches them further.
	perSecond := float64(methodTiers["reactions.add"]) / 60 * d.c.cfg.TierScale
	least := time.Duration(float64(calls-methodBurst) / perSecond * float64(time.Second))
	if span := at[len(at)-1].Sub(at[0]); span < least*9/10 {
		t.Errorf("%d held calls went within %s of each other, want at least %s", calls, span, least)
	}
}

// A thread's posts never wait for its header: chat.update is Tier 3 and
// shared by every case, so the redraw follows on its own.
func TestPostsDoNotWaitForTheHeader(t *testing.T) {
	d := newDesk(t)
	ctx := context.Background()
	if err := d.c.Send(ctx, dialog.Output{To: dialog.ToAgents, Case: "AXSE-2026-00007", Notice: dialog.NoticeCaseOpened, Key: "agent.case_new", Text: "new", ID: "1"}); err != nil {
		t.Fatal(err)
	}
	root := d.fake.Messages("C1")[0]
	d.c.holdMethod("chat.update", time.Minute)
	for i := range 3 {
		out := dialog.Output{To: dialog.ToAgents, Case: "AXSE-2026-00007", Key: "agent.consumer_message", Text: fmt.Sprint("message ", i), ID: fmt.Sprint(2 + i)}
		if err := d.c.Send(ctx, out); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(d.fake.Thread("C1", root.TS)); got != 3 || d.fake.Calls("chat.update") != 0 {
		t.Errorf("%d posts in the thread and %d chat.update calls while chat.update is held", got, d.fake.Calls("chat.update"))
	}
}

// The desk's delivered marks queue apart from its posts: a reaction held
// by its tier must not hold up the thread.
func TestDeliveredMarksQueueApart(t *testing.T) {
	post := dialog.Output{To: dialog.ToAgents, Issuer: "amex-se", Case: "AXSE-2026-00007", Key: "agent.consumer_message"}
	mark := dialog.Output{To: dialog.ToAgents, Issuer: "amex-se", Case: "AXSE-2026-00007", Notice: dialog.NoticeDelivered}
	if post.Queue() == mark.Queue() {
		t.Errorf("posts and delivered marks share the queue %q", post.Queue())
	}
}
