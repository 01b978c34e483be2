package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"ombud/bot/slack/slacktest"
	"ombud/bot/telegram/telegramtest"
)

// BenchmarkServe measures ombud serve end to end against the Bot API fake,
// through long polling, the inbox, the dialog, the store and the relay:
//
//	go test -run '^$' -bench 'Serve|BareTxn' -benchtime 1x ./cmd/ombud ./store
//
// "Max" runs 1000 chats at once, each answering as soon as it is asked
// (closed loop), and reports turns per second. "Paced150" offers 150 turns
// per second from 1000 chats and reports latency from the update being
// served to the reply received. Telegram's own pacing is lifted (the fake
// has no limits), so the figures are Ombud's.
func BenchmarkServe(b *testing.B) {
	b.Run("Max", func(b *testing.B) { benchServe(b, 1000, 0) })
	b.Run("Paced150", func(b *testing.B) { benchServe(b, 1000, 150) })
}

// benchServe files complaints from chats; rate 0 means as fast as the
// server answers. Each chat does the steps before the policy's fields.
func benchServe(b *testing.B, chats int, rate float64) {
	steps := tgScript(b, "amex-se")[:7] // up to the policy's first two questions
	for range b.N {
		tg := telegramtest.New(testToken)
		replies := make([]chan time.Time, chats)
		for i := range replies {
			replies[i] = make(chan time.Time, 16)
		}
		tg.OnSend = func(m telegramtest.Sent) {
			if i := int(m.ChatID) - 1; i >= 0 && i < chats {
				select {
				case replies[i] <- m.At:
				default:
				}
			}
		}
		stop := startServeForBench(b, tg, b.TempDir())

		var mu sync.Mutex
		var latencies []time.Duration
		var tokens <-chan time.Time
		if rate > 0 {
			ticker := time.NewTicker(time.Duration(float64(time.Second) / rate))
			defer ticker.Stop()
			tokens = ticker.C
		}
		var wg sync.WaitGroup
		began := time.Now()
		for c := range chats {
			wg.Add(1)
			go func(c int) {
				defer wg.Done()
				id := int64(c + 1)
				for _, s := range steps {
					if tokens != nil {
						<-tokens
					}
					drain(replies[c])
					sentAt := time.Now()
					if s.press != "" {
						if !tg.PressShown(id, "en", s.press) {
							b.Errorf("chat %d: no button %q on screen", id, s.press)
							return
						}
					} else {
						tg.Text(id, "en", s.text)
					}
					select {
					case at := <-replies[c]:
						mu.Lock()
						latencies = append(latencies, at.Sub(sentAt))
						mu.Unlock()
						waitQuiet(replies[c])
					case <-time.After(60 * time.Second):
						b.Errorf("chat %d: no reply to %+v", id, s)
						return
					}
				}
			}(c)
		}
		wg.Wait()
		elapsed := time.Since(began)
		stop()
		tg.Close()

		slices.Sort(latencies)
		turns := len(latencies)
		if turns == 0 {
			b.Fatal("no turns")
		}
		b.ReportMetric(float64(turns)/elapsed.Seconds(), "turns/s")
		b.ReportMetric(float64(latencies[turns/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(latencies[turns*99/100].Microseconds())/1000, "p99-ms")
		b.Logf("%d chats, %d turns in %s", chats, turns, elapsed.Round(time.Millisecond))
	}
}

// waitQuiet lets a turn's further replies (a turn may answer twice) arrive
// before the chat's next step.
func waitQuiet(ch chan time.Time) {
	for {
		select {
		case <-ch:
		case <-time.After(20 * time.Millisecond):
			return
		}
	}
}

func drain(ch chan time.Time) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// startServeForBench runs ombud serve in-process with Telegram's pacing
// lifted and returns its stop function.
func startServeForBench(b *testing.B, tg *telegramtest.Server, dir string) (stop func()) {
	b.Helper()
	addr := freeAddr(b)
	env := map[string]string{"TELEGRAM_BOT_TOKEN": testToken, "TELEGRAM_API_URL": tg.APIURL()}
	ctx, cancel := contextWithCancel()
	e := &Env{Stdout: &syncBuffer{}, Stderr: &syncBuffer{}, Getenv: func(k string) string { return env[k] }, Now: time.Now}
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, e, []string{"serve", "--data", dir, "--http", addr, "--telegram-rate", "1000000", "--telegram-chat-rate", "1000000"})
	}()
	if !waitHTTP(addr+"/readyz", 10*time.Second) {
		cancel()
		b.Fatalf("serve not ready: %s", e.Stderr.(*syncBuffer).String())
	}
	return func() {
		cancel()
		<-done
	}
}

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}

// BenchmarkSlackAck measures how fast ombud serve acknowledges signed Slack
// events (agent replies in a case thread, each stored before the 2xx) while
// Telegram consumers keep it busy at 150 turns per second:
//
//	go test -run '^$' -bench SlackAck -benchtime 1x ./cmd/ombud
func BenchmarkSlackAck(b *testing.B) {
	for range b.N {
		tg := telegramtest.New(testToken)
		sl := slacktest.New("xoxb-bench")
		sl.AddUser("U1", "Eva")
		addr := freeAddr(b)
		env := map[string]string{"TELEGRAM_BOT_TOKEN": testToken, "TELEGRAM_API_URL": tg.APIURL(),
			"SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_API_URL": sl.APIURL(), "SLACK_SIGNING_SECRET": slackSecret, "SLACK_CHANNEL": "C1"}
		ctx, cancel := contextWithCancel()
		e := &Env{Stdout: &syncBuffer{}, Stderr: &syncBuffer{}, Getenv: func(k string) string { return env[k] }, Now: time.Now}
		done := make(chan int, 1)
		go func() {
			done <- Run(ctx, e, []string{"serve", "--data", b.TempDir(), "--http", addr, "--telegram-rate", "1000000", "--telegram-chat-rate", "1000000"})
		}()
		if !waitHTTP(addr+"/readyz", 10*time.Second) {
			b.Fatal("serve not ready")
		}
		// One filed case whose thread the agents answer in.
		for _, s := range numbered(benchScript) {
			if s.press != "" {
				tg.Press(1, "en", s.press)
			} else {
				tg.Text(1, "en", s.text)
			}
		}
		if !sl.Wait(20*time.Second, func() bool { return len(sl.Messages("C1")) > 0 }) {
			b.Fatal("no case thread")
		}
		root := sl.Messages("C1")[0]

		// Background load: 150 turns/s from 1000 chats.
		load, stopLoad := contextWithCancel()
		go func() {
			ticker := time.NewTicker(time.Second / 150)
			defer ticker.Stop()
			for i := 0; ; i++ {
				select {
				case <-load.Done():
					return
				case <-ticker.C:
					chat := int64(1000 + i%1000)
					if i < 1000 {
						tg.Text(chat, "en", "/start klarna-dk")
					} else {
						tg.Text(chat, "en", "/status")
					}
				}
			}
		}()
		var acks []time.Duration
		for i := range 300 {
			body := []byte(fmt.Sprintf(`{"type":"event_callback","event_id":"Ev%d","team_id":"T1","event":{"type":"message","user":"U1","channel":"C1","ts":"1900000000.%06d","thread_ts":"%s","text":"note: intern %d"}}`, i, i, root.TS, i))
			req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/slack/events", bytes.NewReader(body))
			for k, v := range slacktest.Sign(slackSecret, time.Now(), body) {
				req.Header[k] = v
			}
			req.Header.Set("Content-Type", "application/json")
			start := time.Now()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("event %d: %d", i, resp.StatusCode)
			}
			acks = append(acks, time.Since(start))
			time.Sleep(time.Second / 20) // 20 events per second beside the load
		}
		stopLoad()
		cancel()
		<-done
		tg.Close()
		sl.Close()
		slices.Sort(acks)
		b.ReportMetric(float64(acks[len(acks)/2].Microseconds())/1000, "ack-p50-ms")
		b.ReportMetric(float64(acks[len(acks)*99/100].Microseconds())/1000, "ack-p99-ms")
	}
}

// benchScript files an amex-se complaint: its fields are a topic, a case
// number (skipped), a description, a date, an expectation and attachments
// (done).
var benchScript = []step{{text: "/start amex-se"}, {press: "go"}, {press: "no"}, {press: "file"},
	{press: "choice:charge"}, {press: "skip"}, {text: "I was charged twice for the same hotel night."}, {text: "2026-11-01"},
	{text: "A refund of the second charge."}, {press: "done"}, {press: "submit"}}
