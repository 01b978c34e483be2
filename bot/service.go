package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"ombud/dialog"
)

// Sender delivers outputs to one platform: the consumer's chat or the
// agents' desk. Send returns nil only once the platform has accepted the
// message; any error leaves it in the outbox to be tried again.
type Sender interface {
	Send(ctx context.Context, out dialog.Output) error
}

// Service runs conversations over the durable store.
type Service struct {
	Store  Store
	Engine *dialog.Engine
	Log    *slog.Logger
	Now    func() time.Time
	// Consumers sends consumer outputs, by the output's channel.
	Consumers map[string]Sender
	// Agents sends outputs for the agents' desk; nil drops them (logged).
	Agents Sender
	// Observe, if set, is told what the service does (metrics).
	Observe Observer

	purgePending atomic.Bool // an erasure waits for Store.Purge

	sendMu   sync.Mutex
	inFlight map[string]bool // destinations with a send running
	sending  sync.WaitGroup
	typing   sync.WaitGroup // "typing…" shown beside turns

	wakeOnce                         sync.Once
	wakeInbox, wakeRelay, wakeTimers chan struct{}
}

// Observer is told what the service does, for metrics. Implementations
// must be quick and safe for concurrent use.
type Observer interface {
	Input(channel string)
	Turn(d time.Duration, failed bool)
	Sent(destination, result string)
	Deadline(kind string)
}

type noObserver struct{}

func (noObserver) Input(string)             {}
func (noObserver) Turn(time.Duration, bool) {}
func (noObserver) Sent(string, string)      {}
func (noObserver) Deadline(string)          {}

func (s *Service) observer() Observer {
	if s.Observe == nil {
		return noObserver{}
	}
	return s.Observe
}

// batch bounds how many inbox, outbox or timer entries one pass reads.
const batch = 100

// Submit makes inputs durable in the inbox. Only after it returns may the
// platform be told they arrived.
func (s *Service) Submit(inputs ...dialog.Input) error {
	if _, err := s.Store.Enqueue(nil, inputs...); err != nil {
		return fmt.Errorf("bot: submit: %w", err)
	}
	return nil
}

// ProcessInbox handles every pending input in arrival order and returns how
// many it handled. Inputs queued while it runs may wait for the next call.
func (s *Service) ProcessInbox(ctx context.Context) (int, error) {
	total := 0
	for {
		items, err := s.Store.Pending(batch)
		if err != nil {
			return total, fmt.Errorf("bot: read inbox: %w", err)
		}
		if len(items) == 0 {
			s.purge()
			return total, nil
		}
		for _, item := range items {
			if err := ctx.Err(); err != nil {
				return total, err
			}
			if err := s.handle(ctx, item); err != nil {
				return total, err
			}
			total++
		}
		if len(items) < batch {
			s.purge()
			return total, nil // a short page was the whole inbox: no need to read it again
		}
	}
}

// handle runs one input as one transaction. A failure inside the dialog (a
// bug, a panic) is logged with the conversation and answered with the
// generic apology; the input is kept aside as failed (Failed), so it
// neither blocks the conversation nor is lost. A store failure returns an
// error and leaves the input in the inbox.
func (s *Service) handle(ctx context.Context, item InboxItem) error {
	in := item.Input
	now := s.Now()
	started := time.Now() // latency is measured on the real clock
	var turnErr error
	var purge bool
	var produced []dialog.Output
	err := s.Store.Update(func(tx Tx) error {
		turnErr, purge, produced = nil, false, nil
		turn, key, err := s.load(tx, in, now)
		if err != nil {
			return err
		}
		res, err := s.runEngine(ctx, turn, in)
		if err != nil {
			turnErr = err
			if in.Kind != dialog.InputAgent && in.Kind != dialog.InputTimer {
				if err := tx.AddOutbox(s.Engine.InternalErrorOutput(turn.Session, in)); err != nil {
					return err
				}
			}
			return tx.Fail(item, err.Error())
		}
		if purge, err = s.save(tx, res, turn, in, key, now); err != nil {
			return err
		}
		produced = res.Outputs
		return tx.Done(item)
	})
	s.observe(in, produced, purge, time.Since(started), turnErr != nil || err != nil)
	if turnErr != nil {
		s.Log.Error("turn failed; the consumer got the generic apology",
			"err", turnErr, "channel", in.Channel, "chat", in.Chat, "case", in.Case, "kind", in.Kind)
	}
	if err != nil {
		return fmt.Errorf("bot: handle input %d: %w", item.Seq, err)
	}
	if purge {
		s.purgePending.Store(true)
	}
	return nil
}

// purge makes erased data unrecoverable from the files on disk, if an
// erasure asked for it. Erasures are purged together: a purge compacts the
// whole store, so it is not run once per request.
func (s *Service) purge() {
	if !s.purgePending.Swap(false) {
		return
	}
	if err := s.Store.Purge(); err != nil {
		s.purgePending.Store(true) // try again on the next pass
		if errors.Is(err, ErrDiskFull) {
			return // said once by the store
		}
		s.Log.Error("purge after erasure failed; old versions stay on disk until it succeeds", "err", err)
	}
}

// save writes what a turn changed, in its transaction, and carries out a
// privacy request or an erasure it made. It reports whether the store must
// be purged once the transaction commits.
func (s *Service) save(tx Tx, res dialog.Result, turn dialog.Turn, in dialog.Input, key string, now time.Time) (purge bool, err error) {
	if key != "" && res.Privacy != dialog.PrivacyErase {
		if err := tx.PutSession(key, res.Session); err != nil {
			return false, err
		}
	}
	if res.Complaint != nil {
		if err := tx.PutComplaint(*res.Complaint); err != nil {
			return false, err
		}
		if res.SetTimers {
			if err := tx.ReplaceTimers(res.Complaint.ID, res.Timers); err != nil {
				return false, err
			}
		}
	}
	if err := tx.AddOutbox(res.Outputs...); err != nil {
		return false, err
	}
	if res.Privacy != "" {
		if purge, err = s.privacy(tx, res.Privacy, in, key, res.Session, now); err != nil {
			return false, err
		}
	}
	if res.Erase && turn.Complaint != nil {
		if err := s.erase(tx, *turn.Complaint, now); err != nil {
			return false, err
		}
		purge = true
	}
	return purge, nil
}

// observe reports a handled input to the observer. Deadline events count
// what the dialog made of a timer: a reminder or breach it announced, or a
// retention purge; a timer for a case decided meanwhile counts nothing.
func (s *Service) observe(in dialog.Input, produced []dialog.Output, purged bool, took time.Duration, failed bool) {
	obs := s.observer()
	obs.Input(inputChannel(in))
	obs.Turn(took, failed)
	for _, o := range produced {
		switch o.Notice {
		case dialog.NoticeReminder:
			obs.Deadline("reminder")
		case dialog.NoticeBreach:
			obs.Deadline("breach")
		}
	}
	if purged && in.Kind == dialog.InputTimer {
		obs.Deadline("purge")
	}
}

// inputChannel labels an input for metrics.
func inputChannel(in dialog.Input) string {
	switch in.Kind {
	case dialog.InputTimer:
		return "timer"
	case dialog.InputAgent:
		if strings.HasPrefix(in.Key, "slack:") {
			return "slack"
		}
		return "desk"
	}
	return in.Channel
}

// load reads the state an input works on: the consumer's session and its
// case, or for agent and timer inputs the case and its consumer's session.
func (s *Service) load(tx Tx, in dialog.Input, now time.Time) (dialog.Turn, string, error) {
	turn := dialog.Turn{Now: now, NextCaseNumber: tx.NextCaseNumber, LoadCase: func(id string) (*dialog.Complaint, error) {
		c, err := tx.Complaint(id)
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		return &c, err
	}}
	channel, chat := in.Channel, in.Chat
	if in.Kind == dialog.InputAgent || in.Kind == dialog.InputTimer {
		c, err := tx.Complaint(in.Case)
		switch {
		case errors.Is(err, ErrNotFound):
			return turn, "", nil // erased or unknown: the dialog tells the agents
		case err != nil:
			return turn, "", err
		}
		turn.Complaint = &c
		channel, chat = c.Channel, c.Chat
		if channel == "" { // erased: no conversation is left to load or save
			return turn, "", nil
		}
	}
	key := dialog.SessionKey(channel, chat)
	sess, err := tx.Session(key)
	switch {
	case errors.Is(err, ErrNotFound):
		sess = dialog.Session{Channel: channel, Chat: chat}
	case err != nil:
		return turn, "", err
	}
	turn.Session = sess
	if turn.Complaint == nil && sess.Case != "" {
		c, err := tx.Complaint(sess.Case)
		switch {
		case err == nil:
			turn.Complaint = &c
		case !errors.Is(err, ErrNotFound):
			return turn, "", err
		}
	}
	return turn, key, nil
}

// runEngine runs the dialog, turning a panic into an error so one bad
// input cannot take the service down.
func (s *Service) runEngine(ctx context.Context, turn dialog.Turn, in dialog.Input) (res dialog.Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("bot: dialog panic: %v\n%s", r, debug.Stack())
		}
	}()
	return s.Engine.Handle(ctx, turn, in)
}

// FireTimers queues every deadline timer due at now and handles the inbox.
// It returns how many timers it queued.
func (s *Service) FireTimers(ctx context.Context, now time.Time) (int, error) {
	n, err := s.queueDueTimers(now)
	if err != nil || n == 0 {
		return n, err
	}
	_, err = s.ProcessInbox(ctx)
	return n, err
}

// queueDueTimers moves due timers into the inbox, as inputs with a key of
// their own: if the process dies between queueing and clearing a timer,
// the next pass queues it again and the inbox drops the duplicate.
func (s *Service) queueDueTimers(now time.Time) (int, error) {
	timers, err := s.Store.DueTimers(now, batch)
	if err != nil {
		return 0, fmt.Errorf("bot: read timers: %w", err)
	}
	if len(timers) == 0 {
		return 0, nil
	}
	inputs := make([]dialog.Input, len(timers))
	for i, t := range timers {
		tm := t
		inputs[i] = dialog.Input{
			Key:  fmt.Sprintf("timer:%s:%s:%s:%d", t.Case, t.Kind, t.Deadline, t.At.UnixNano()),
			Kind: dialog.InputTimer, Case: t.Case, Timer: &tm, At: now,
		}
	}
	if err := s.Submit(inputs...); err != nil {
		return 0, err
	}
	if err := s.Store.Update(func(tx Tx) error {
		for _, t := range timers {
			if err := tx.DeleteTimer(t); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return 0, fmt.Errorf("bot: clear fired timers: %w", err)
	}
	return len(timers), nil
}

// Relay sends the outbox in order, one entry at a time, and returns how
// many it sent. An entry leaves the outbox only after its platform accepted
// it (or refused it for good); on a failure the relay stops, so later
// entries never overtake it, and the entry is tried again on the next pass.
// The terminal uses it; a server runs RunRelay, which paces destinations in
// parallel.
func (s *Service) Relay(ctx context.Context) (int, error) {
	sent := 0
	for {
		items, err := s.Store.Outbox(batch)
		if err != nil {
			return sent, fmt.Errorf("bot: read outbox: %w", err)
		}
		if len(items) == 0 {
			return sent, nil
		}
		for _, item := range items {
			if err := s.deliver(ctx, item); err != nil {
				return sent, err
			}
			sent++
		}
	}
}

// deliver sends one outbox entry and records the result: sent, dropped as
// undeliverable, or due again later. The returned error means the entry is
// still queued.
func (s *Service) deliver(ctx context.Context, item OutboxItem) error {
	out := item.Output
	sender := s.senderFor(out)
	if sender == nil {
		s.Log.Warn("no sender for output; dropped", "to", out.To, "channel", out.Channel, "case", out.Case, "key", out.Key)
		return s.markSent(item)
	}
	if out.To == dialog.ToConsumer && s.blocked(out) {
		s.Log.Info("consumer has blocked the bot; message dropped", "channel", out.Channel, "chat", out.Chat, "case", out.Case, "key", out.Key)
		return s.markSent(item)
	}
	out.ID = fmt.Sprint(item.Seq)
	err := sender.Send(ctx, out)
	s.observer().Sent(destinationLabel(out), sendResult(err))
	var retry *RetryAfterError
	switch {
	case err == nil && out.Receipt != "" && out.To == dialog.ToConsumer:
		// An agent's reply reached the consumer: mark it on the desk. The
		// mark itself carries the receipt too, and must not mark again.
		return s.markDelivered(item)
	case err == nil:
		return s.markSent(item)
	case errors.Is(err, ErrUndeliverable), errors.Is(err, ErrRejected):
		s.Log.Warn("message undeliverable; dropped", "err", err, "to", out.To, "channel", out.Channel, "chat", out.Chat, "case", out.Case, "key", out.Key)
		return s.undeliverable(item, err)
	case errors.As(err, &retry):
		// Told to wait: not a failed attempt, so it adds no backoff.
		if err := s.Store.Postpone(item.Seq, s.Now().Add(retry.Wait), err.Error()); err != nil && !errors.Is(err, ErrNotFound) {
			s.Log.Error("could not postpone a send", "err", err, "seq", item.Seq)
		}
	default:
		s.retry(item, backoff(item.Attempts), err)
	}
	return fmt.Errorf("bot: send %s to %s: %w", out.Key, out.To, err)
}

func (s *Service) markSent(item OutboxItem) error {
	if err := s.Store.MarkSent(item.Seq); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("bot: mark sent: %w", err)
	}
	return nil
}

// markDelivered removes a relayed agent reply from the outbox and, in the
// same transaction, queues the mark on the agent's own message that it
// reached the consumer.
func (s *Service) markDelivered(item OutboxItem) error {
	out := item.Output
	err := s.Store.Update(func(tx Tx) error {
		if err := tx.DropOutbox(item.Seq); err != nil {
			return err
		}
		return tx.AddOutbox(dialog.Output{
			To: dialog.ToAgents, Channel: out.Channel, Chat: out.Chat, Case: out.Case, Issuer: out.Issuer,
			Notice: dialog.NoticeDelivered, Receipt: out.Receipt,
		})
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("bot: mark delivered: %w", err)
	}
	return nil
}

func (s *Service) retry(item OutboxItem, wait time.Duration, cause error) {
	if err := s.Store.Retry(item.Seq, s.Now().Add(wait), cause.Error()); err != nil && !errors.Is(err, ErrNotFound) {
		s.Log.Error("could not reschedule a failed send", "err", err, "seq", item.Seq)
	}
}

// maxBackoff caps the wait between tries of a failing send: a chat's
// consumer waits seconds, not minutes, once the platform is back.
const maxBackoff = 30 * time.Second

// backoff is the wait before the next try after attempts failures (server
// errors, broken connections): 1 s doubling to at most maxBackoff, with a
// quarter of jitter either way so that queues failed together do not retry
// together.
func backoff(attempts int) time.Duration {
	d := time.Second
	for i := 0; i < attempts && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	return d - d/4 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// blocked reports whether the consumer of out has blocked the bot.
func (s *Service) blocked(out dialog.Output) bool {
	var blocked bool
	_ = s.Store.View(func(tx Tx) error {
		sess, err := tx.Session(dialog.SessionKey(out.Channel, out.Chat))
		blocked = err == nil && sess.Blocked
		return nil
	})
	return blocked
}

// undeliverable drops an entry the platform refused for good. For a
// consumer message it warns the agents and, when the consumer blocked the
// bot, marks the conversation, in one transaction with the drop.
func (s *Service) undeliverable(item OutboxItem, cause error) error {
	out := item.Output
	err := s.Store.Update(func(tx Tx) error {
		if out.To == dialog.ToConsumer {
			key := dialog.SessionKey(out.Channel, out.Chat)
			sess, err := tx.Session(key)
			if err == nil && errors.Is(cause, ErrUndeliverable) {
				sess.Blocked = true
				if err := tx.PutSession(key, sess); err != nil {
					return err
				}
			}
			if out.Case != "" {
				if err := tx.AddOutbox(s.Engine.Undeliverable(out, cause.Error())); err != nil {
					return err
				}
			}
		}
		return tx.DropOutbox(item.Seq)
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("bot: drop undeliverable: %w", err)
	}
	return nil
}

func (s *Service) senderFor(out dialog.Output) Sender {
	if out.To == dialog.ToAgents {
		return s.Agents
	}
	return s.Consumers[out.Channel]
}

func destinationLabel(out dialog.Output) string {
	if out.To == dialog.ToAgents {
		return "agents"
	}
	return out.Channel
}

// sendResult labels a send's outcome for metrics.
func sendResult(err error) string {
	var retry *RetryAfterError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &retry):
		return "429"
	case errors.Is(err, ErrUndeliverable):
		return "blocked"
	case errors.Is(err, ErrRejected):
		return "rejected"
	}
	return "error"
}
