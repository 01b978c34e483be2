package main

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

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
	steps := []step{{text: "/start amex-se"}, {press: "go"}, {press: "yes"}, {text: "2026-11-02"}, {press: "prior:rejected"},
		{press: "skip"}, {text: "I was charged twice for the same hotel night in November."}}
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
						tg.Press(id, "en", s.press)
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
