package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ombud/bot/slack/slacktest"
	"ombud/bot/telegram/telegramtest"
	"ombud/policies"
)

// The soak is a measurement, not a test of the suite: it runs only when
// asked, for as long as asked, and reports its figures in the log.
//
//	go test ./cmd/ombud -run TestServeSoak -soak=3m -soak.chats=200 -v
//	go test ./cmd/ombud -run TestServeSoak -soak=120s -soak.chats=60 -soak.file=1 -soak.storm -v
var (
	soakFlag  = flag.Duration("soak", 0, "run TestServeSoak this long (e.g. 3m); 0 skips it")
	soakChats = flag.Int("soak.chats", 200, "consumers in the soak")
	soakStorm = flag.Bool("soak.storm", false, "both platforms answer 30% 429, 10% 5xx and drop 5% of connections while the soak runs")
	soakSeed  = flag.Uint64("soak.seed", 7, "seed of the consumers, agents and faults")
	soakFile  = flag.Float64("soak.file", 0.25, "the share of consumers who file a complaint; the others ask and leave")
)

// caseNumber finds a case number in a receipt.
var caseNumber = regexp.MustCompile(`\b[A-Z]{2,6}-20\d\d-\d{5}\b`)

// soakCase is a filed complaint the agents may answer.
type soakCase struct {
	chat   int64
	id     string
	issuer string
}

// TestServeSoak runs consumers filing and following up on Telegram while
// agents answer from Slack threads, optionally under a storm, then waits
// for everything to drain and reports rates beside the platforms' limits.
func TestServeSoak(t *testing.T) {
	if *soakFlag <= 0 {
		t.Skip("a measurement: run with -soak=3m (see the comment on soakFlag)")
	}
	length, chats := *soakFlag, *soakChats
	rng := rand.New(rand.NewPCG(*soakSeed, 1))
	var rngMu sync.Mutex
	randIn := func(lo, hi time.Duration) time.Duration {
		rngMu.Lock()
		defer rngMu.Unlock()
		return lo + time.Duration(rng.Int64N(int64(hi-lo)))
	}

	tg := newFake(t)
	tg.AddFile("doc-kvitto.pdf", []byte("%PDF-1.4 kvitto"))
	sl := slacktest.New("xoxb-test")
	t.Cleanup(sl.Close)
	sl.AddUser("U1", "Eva")
	var storm atomic.Bool
	if *soakStorm {
		storm.Store(true)
		tg.Fail = stormPlan(*soakSeed, &storm)
		sl.Fail = slackStormPlan(*soakSeed, &storm)
	}
	set, err := policies.Load(policies.Bundled(), policies.BundledDir)
	if err != nil {
		t.Fatal(err)
	}
	issuers := set.IDs()
	var channels []string
	for i, id := range issuers {
		channels = append(channels, fmt.Sprintf("%s=C%d", id, i+1))
	}
	addr, logs := serveInProcess(t, tg, t.TempDir(), map[string]string{
		"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": sl.APIURL(), "SLACK_SIGNING_SECRET": slackSecret,
		"SLACK_CHANNELS": strings.Join(channels, ","),
	}, "--telegram-chat-rate", "1", "--slack-header-every", "5s")
	scripts := map[string][]step{}
	for _, id := range issuers {
		scripts[id] = tgScript(t, id)
	}

	// Sample the outboxes every second.
	var peakMu sync.Mutex
	peak := map[string]float64{}
	var lastBusy time.Time // when an outbox last held something
	sampling := make(chan struct{})
	var sampled sync.WaitGroup
	sampled.Add(1)
	go func() {
		defer sampled.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-sampling:
				return
			case <-tick.C:
				for k, v := range metricSeries(addr) {
					if strings.HasPrefix(k, "ombud_outbox_") {
						peakMu.Lock()
						peak[k] = max(peak[k], v)
						if strings.HasPrefix(k, "ombud_outbox_depth") && v > 0 {
							lastBusy = time.Now()
						}
						peakMu.Unlock()
					}
				}
			}
		}
	}()

	start := time.Now()
	end := start.Add(length)
	var (
		mu         sync.Mutex
		filed      []soakCase
		inputs     int
		unanswered []string
		waits      []time.Duration
	)
	// say sends one step and waits for any answer, up to 240 s.
	say := func(chat int64, s step) bool {
		before := len(tg.SentTo(chat))
		sent := time.Now()
		switch {
		case s.press != "":
			// A send that broke after Telegram took it comes again, and the
			// repeat may have been taken for the answer: wait for the
			// button itself.
			tg.Wait(240*time.Second, func() bool { _, ok := tg.Button(chat, s.press); return ok })
			if !tg.PressShown(chat, "en", s.press) {
				mu.Lock()
				unanswered = append(unanswered, fmt.Sprintf("chat %d: no button %q", chat, s.press))
				mu.Unlock()
				return false
			}
		case s.doc != "":
			tg.Document(chat, "en", s.doc)
		default:
			tg.Text(chat, "en", s.text)
		}
		ok := tg.Wait(240*time.Second, func() bool { return len(tg.SentTo(chat)) > before })
		mu.Lock()
		defer mu.Unlock()
		inputs++
		if !ok {
			unanswered = append(unanswered, fmt.Sprintf("chat %d: no answer within 240 s to %+v", chat, s))
			return false
		}
		waits = append(waits, time.Since(sent))
		return true
	}
	channelOf := map[string]string{}
	for i, id := range issuers {
		channelOf[id] = fmt.Sprintf("C%d", i+1)
	}
	var rootsMu sync.Mutex
	roots := map[string]string{} // case -> root ts
	rootOf := func(caseID, issuer string) string {
		rootsMu.Lock()
		defer rootsMu.Unlock()
		if roots[caseID] == "" {
			for _, m := range sl.Messages(channelOf[issuer]) {
				if m.ThreadTS == "" && strings.Contains(m.Blocks, caseID) {
					roots[caseID] = m.TS
				}
			}
		}
		return roots[caseID]
	}
	var consumers sync.WaitGroup
	for i := range chats {
		chat := int64(20000 + i)
		rngMu.Lock()
		issuer := issuers[rng.IntN(len(issuers))]
		files := rng.Float64() < *soakFile
		rngMu.Unlock()
		consumers.Add(1)
		go func() {
			defer consumers.Done()
			// Consumers arrive over the first third, think between steps,
			// and some file; the others ask and leave.
			time.Sleep(randIn(0, length/3)) // arrival, part of the plan
			script := scripts[issuer]
			if !files {
				script = []step{{text: "/start"}, {text: "/help"}, {text: "/status"}}
			}
			for _, s := range script {
				if !say(chat, s) {
					return
				}
				time.Sleep(randIn(time.Second, 4*time.Second)) // thinking
			}
			if !files {
				return
			}
			last := tg.SentTo(chat)
			id := caseNumber.FindString(last[len(last)-1].Text)
			if id == "" {
				mu.Lock()
				unanswered = append(unanswered, fmt.Sprintf("chat %d: no receipt", chat))
				mu.Unlock()
				return
			}
			mu.Lock()
			filed = append(filed, soakCase{chat: chat, id: id, issuer: issuer})
			mu.Unlock()
			// Follow-ups go to the case's Slack thread. Once an agent has
			// answered, the bot stays quiet, so the thread is where to
			// look for them.
			for n := 1; time.Now().Before(end); n++ {
				time.Sleep(randIn(20*time.Second, 60*time.Second)) // between follow-ups
				text := fmt.Sprintf("Any news on %s? (%d)", id, n)
				sent := time.Now()
				tg.Text(chat, "en", text)
				ok := sl.Wait(240*time.Second, func() bool {
					root := rootOf(id, issuer)
					if root == "" {
						return false
					}
					for _, m := range sl.Thread(channelOf[issuer], root) {
						if strings.Contains(m.Text, text) {
							return true
						}
					}
					return false
				})
				mu.Lock()
				inputs++
				if ok {
					waits = append(waits, time.Since(sent))
				} else {
					unanswered = append(unanswered, fmt.Sprintf("chat %d: %q never reached the thread", chat, text))
				}
				mu.Unlock()
				if !ok {
					return
				}
			}
		}()
	}

	// One agent answers a random filed case about once a second, until
	// the last consumer is done: under a storm, filing takes long.
	consumersDone := make(chan struct{})
	go func() {
		consumers.Wait()
		close(consumersDone)
	}()
	type reply struct {
		chat  int64
		token string
		sent  time.Time
	}
	var replies []reply
	stormOver := time.AfterFunc(length, func() { storm.Store(false) })
	defer stormOver.Stop()
	stormEnded := end
	agentPace := time.NewTicker(time.Second) // the agent's pace
	defer agentPace.Stop()
	for n := 1; ; n++ {
		select {
		case <-agentPace.C:
		case <-consumersDone:
		}
		if closed(consumersDone) {
			break
		}
		mu.Lock()
		if len(filed) == 0 {
			mu.Unlock()
			continue
		}
		rngMu.Lock()
		c := filed[rng.IntN(len(filed))]
		rngMu.Unlock()
		mu.Unlock()
		ch, root := channelOf[c.issuer], rootOf(c.id, c.issuer)
		if root == "" {
			continue // the thread is not posted yet
		}
		token := fmt.Sprintf("soak-reply-%d", n)
		body := event(t, fmt.Sprintf("EvSoak%d", n), map[string]any{"type": "message", "user": "U1", "channel": ch,
			"ts": fmt.Sprintf("1800000000.%06d", n), "thread_ts": root, "text": "We are looking into it: " + token})
		// Slack retries an event three times, a minute or more apart;
		// a quick loop stands in for that here.
		for range 4 {
			if postSigned(t, addr, "/slack/events", "application/json", body, time.Now(), slackSecret) == http.StatusOK {
				replies = append(replies, reply{chat: c.chat, token: token, sent: time.Now()})
				break
			}
		}
	}

	// Drain: every agent reply reaches its consumer, and the outboxes
	// empty.
	var lost []string
	var replyWaits []time.Duration
	for _, r := range replies {
		var at time.Time
		tg.Wait(240*time.Second, func() bool {
			for _, m := range tg.SentTo(r.chat) {
				if strings.Contains(m.Text, r.token) {
					at = m.At
					return true
				}
			}
			return false
		})
		if at.IsZero() {
			lost = append(lost, fmt.Sprintf("%s to chat %d", r.token, r.chat))
			continue
		}
		replyWaits = append(replyWaits, at.Sub(r.sent))
	}
	drained := waitFor(300*time.Second, func() bool {
		series := metricSeries(addr)
		return series[`ombud_outbox_depth{destination="agents"}`] == 0 && series[`ombud_outbox_depth{destination="telegram"}`] == 0
	})
	close(sampling)
	sampled.Wait()
	drainTime := max(0, lastBusy.Sub(stormEnded))

	// Report.
	tgCalls := tg.CallLog()
	var tgSends []telegramtest.Call
	for _, c := range tgCalls {
		switch c.Method {
		case "sendMessage", "sendDocument", "editMessageText", "editMessageReplyMarkup":
			tgSends = append(tgSends, c)
		}
	}
	overall := maxInWindow(tgSends, time.Second, func(telegramtest.Call) string { return "" }, func(c telegramtest.Call) time.Time { return c.At })
	perChat := maxInWindow(tgSends, time.Second, func(c telegramtest.Call) string { return c.Chat }, func(c telegramtest.Call) time.Time { return c.At })
	perChatMin := maxInWindow(tgSends, time.Minute, func(c telegramtest.Call) string { return c.Chat }, func(c telegramtest.Call) time.Time { return c.At })
	slCalls := sl.CallLog()
	perMethod := maxInWindow(slCalls, time.Minute, func(c slacktest.Call) string { return c.Method }, func(c slacktest.Call) time.Time { return c.At })
	var posts []slacktest.Call
	for _, c := range slCalls {
		if c.Method == "chat.postMessage" {
			posts = append(posts, c)
		}
	}
	perChannel := maxInWindow(posts, time.Second, func(c slacktest.Call) string { return c.Channel }, func(c slacktest.Call) time.Time { return c.At })
	perChannelMin := maxInWindow(posts, time.Minute, func(c slacktest.Call) string { return c.Channel }, func(c slacktest.Call) time.Time { return c.At })

	var b strings.Builder
	fmt.Fprintf(&b, "soak: %s, %d consumers, storm %v, seed %d\n", length, chats, *soakStorm, *soakSeed)
	fmt.Fprintf(&b, "consumers: %d inputs, %d complaints filed, %d without an answer (or, after filing, not in the thread) within 240 s; wait p50 %s, p99 %s, max %s\n",
		inputs, len(filed), len(unanswered), quantile(waits, .5), quantile(waits, .99), quantile(waits, 1))
	fmt.Fprintf(&b, "agents: %d replies, %d never reached the consumer; reply to consumer p50 %s, max %s\n",
		len(replies), len(lost), quantile(replyWaits, .5), quantile(replyWaits, 1))
	fmt.Fprintf(&b, "outboxes last seen busy %s after the soak's end (the storm's, if any); empty at the end: %v\n", drainTime.Round(time.Second), drained)
	fmt.Fprintf(&b, "telegram: %d sends; overall peak %d in one second (limit 30); worst chat %d in one second (limit about 1, short bursts), %d in one minute (limit 20 in groups); %d sends inside a retry_after\n",
		len(tgSends), top(overall), top(perChat), top(perChatMin), len(tg.Violations()))
	fmt.Fprintf(&b, "slack: per method, peak calls in one minute: %s; %d calls inside a Retry-After\n", describe(perMethod), len(sl.Violations()))
	fmt.Fprintf(&b, "slack: chat.postMessage per channel, peak in one second %s (limit 1, short bursts), in one minute %s\n", describe(perChannel), describe(perChannelMin))
	fmt.Fprintf(&b, "outbox peaks (sampled each second): %s\n", describe(peakInts(peak)))
	t.Log("\n" + b.String())
	for _, u := range unanswered[:min(10, len(unanswered))] {
		t.Error(u)
	}
	for _, l := range lost[:min(10, len(lost))] {
		t.Errorf("agent reply lost: %s", l)
	}
	if !drained {
		t.Errorf("outboxes not empty 300 s after the soak:\n%s", tail(logs.String(), 40))
	}
	if v := tg.Violations(); len(v) > 0 {
		t.Errorf("%d Telegram sends inside a retry_after", len(v))
	}
	if v := sl.Violations(); len(v) > 0 {
		t.Errorf("%d Slack calls inside a Retry-After: %v", len(v), v[:min(5, len(v))])
	}
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// slackStormPlan answers Slack calls with 429s and server errors while on.
func slackStormPlan(seed uint64, on *atomic.Bool) func(string, map[string]string) *slacktest.Failure {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(seed, seed+1))
	return func(method string, _ map[string]string) *slacktest.Failure {
		if !on.Load() || method == "auth.test" {
			return nil
		}
		mu.Lock()
		r, ra := rng.IntN(100), 1+rng.IntN(3)
		mu.Unlock()
		switch {
		case r < 30:
			return &slacktest.Failure{Status: http.StatusTooManyRequests, Error: "ratelimited", RetryAfter: ra}
		case r < 40:
			return &slacktest.Failure{Status: http.StatusBadGateway, Error: "bad_gateway"}
		}
		return nil
	}
}

// maxInWindow is, per key, the most events in any window of length w.
func maxInWindow[E any](events []E, w time.Duration, key func(E) string, at func(E) time.Time) map[string]int {
	byKey := map[string][]time.Time{}
	for _, e := range events {
		byKey[key(e)] = append(byKey[key(e)], at(e))
	}
	out := map[string]int{}
	for k, times := range byKey {
		slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
		lo := 0
		for hi := range times {
			for times[hi].Sub(times[lo]) >= w {
				lo++
			}
			out[k] = max(out[k], hi-lo+1)
		}
	}
	return out
}

func top(m map[string]int) int {
	n := 0
	for _, v := range m {
		n = max(n, v)
	}
	return n
}

func describe(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func peakInts(m map[string]float64) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[k] = int(v)
	}
	return out
}

func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))].Round(time.Millisecond)
}

func tail(s string, lines int) string {
	all := strings.Split(s, "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}

// metricSeries reads every series of /metrics, keyed by name and labels;
// nil when the server does not answer.
func metricSeries(addr string) map[string]float64 {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out
}
