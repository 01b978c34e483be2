package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"ombud/dialog"
	"ombud/store"
)

// Sender delivers outputs to one platform: the consumer's chat or the
// agents' desk. Send returns nil only once the platform has accepted the
// message; any error leaves it in the outbox to be tried again.
type Sender interface {
	Send(ctx context.Context, out dialog.Output) error
}

// Service runs conversations over the durable store.
type Service struct {
	Store  *store.Store
	Engine *dialog.Engine
	Log    *slog.Logger
	Now    func() time.Time
	// Consumers sends consumer outputs, by the output's channel.
	Consumers map[string]Sender
	// Agents sends outputs for the agents' desk; nil drops them (logged).
	Agents Sender
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
// many it handled.
func (s *Service) ProcessInbox(ctx context.Context) (int, error) {
	total := 0
	for {
		items, err := s.Store.Pending(batch)
		if err != nil {
			return total, fmt.Errorf("bot: read inbox: %w", err)
		}
		if len(items) == 0 {
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
	}
}

// handle runs one input as one transaction. A failure inside the dialog (a
// bug, a panic) is logged with the conversation and answered with the
// generic apology; the input is then done, so it cannot block the
// conversation forever. A store failure returns an error and leaves the
// input in the inbox.
func (s *Service) handle(ctx context.Context, item store.InboxItem) error {
	in := item.Input
	now := s.Now()
	var turnErr error
	err := s.Store.Update(func(tx *store.Tx) error {
		turnErr = nil
		turn, key, err := s.load(tx, in, now)
		if err != nil {
			return err
		}
		res, err := s.runEngine(ctx, turn, in)
		if err != nil {
			turnErr = err
			if in.Kind == dialog.InputAgent || in.Kind == dialog.InputTimer {
				return tx.Done(item)
			}
			if err := tx.AddOutbox(s.Engine.InternalErrorOutput(turn.Session, in)); err != nil {
				return err
			}
			return tx.Done(item)
		}
		if key != "" {
			if err := tx.PutSession(key, res.Session); err != nil {
				return err
			}
		}
		if res.Complaint != nil {
			if err := tx.PutComplaint(*res.Complaint); err != nil {
				return err
			}
			if res.SetTimers {
				if err := tx.ReplaceTimers(res.Complaint.ID, res.Timers); err != nil {
					return err
				}
			}
		}
		if err := tx.AddOutbox(res.Outputs...); err != nil {
			return err
		}
		return tx.Done(item)
	})
	if turnErr != nil {
		s.Log.Error("turn failed; the consumer got the generic apology",
			"err", turnErr, "channel", in.Channel, "chat", in.Chat, "case", in.Case, "kind", in.Kind)
	}
	if err != nil {
		return fmt.Errorf("bot: handle input %d: %w", item.Seq, err)
	}
	return nil
}

// load reads the state an input works on: the consumer's session and its
// case, or for agent and timer inputs the case and its consumer's session.
func (s *Service) load(tx *store.Tx, in dialog.Input, now time.Time) (dialog.Turn, string, error) {
	turn := dialog.Turn{Now: now, NextCaseNumber: tx.NextCaseNumber}
	channel, chat := in.Channel, in.Chat
	if in.Kind == dialog.InputAgent || in.Kind == dialog.InputTimer {
		c, err := tx.Complaint(in.Case)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return turn, "", nil // erased or unknown: the dialog tells the agents
		case err != nil:
			return turn, "", err
		}
		turn.Complaint = &c
		channel, chat = c.Channel, c.Chat
	}
	key := dialog.SessionKey(channel, chat)
	sess, err := tx.Session(key)
	switch {
	case errors.Is(err, store.ErrNotFound):
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
		case !errors.Is(err, store.ErrNotFound):
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

// FireTimers feeds every deadline timer due at now into the inbox, as
// inputs with a key of their own so a timer fires once, then handles them.
func (s *Service) FireTimers(ctx context.Context, now time.Time) (int, error) {
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
	if err := s.Store.Update(func(tx *store.Tx) error {
		for _, t := range timers {
			if err := tx.DeleteTimer(t); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return 0, fmt.Errorf("bot: clear fired timers: %w", err)
	}
	_, err = s.ProcessInbox(ctx)
	return len(timers), err
}

// Relay sends the outbox in order. An entry leaves the outbox only after
// its platform accepted it; on a failure the relay stops, so later entries
// never overtake it, and the entry is retried on the next pass.
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
			sender := s.senderFor(item.Output)
			if sender == nil {
				s.Log.Warn("no sender for output; dropped", "to", item.Output.To, "channel", item.Output.Channel, "case", item.Output.Case, "key", item.Output.Key)
			} else if err := sender.Send(ctx, item.Output); err != nil {
				if rerr := s.Store.Retry(item.Seq, s.Now(), err.Error()); rerr != nil {
					return sent, fmt.Errorf("bot: mark retry: %w", rerr)
				}
				return sent, fmt.Errorf("bot: send %s to %s: %w", item.Output.Key, item.Output.To, err)
			}
			if err := s.Store.MarkSent(item.Seq); err != nil {
				return sent, fmt.Errorf("bot: mark sent: %w", err)
			}
			sent++
		}
	}
}

func (s *Service) senderFor(out dialog.Output) Sender {
	if out.To == dialog.ToAgents {
		return s.Agents
	}
	return s.Consumers[out.Channel]
}
