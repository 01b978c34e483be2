package bot

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"ombud/dialog"
)

// RunOptions tunes a running service.
type RunOptions struct {
	// Senders is how many destinations are sent to at once; 0 means 64.
	// A sender waits out its destination's pace, so there are many.
	Senders int
	// Poll is how often the loops look again without being woken; 0
	// means one second.
	Poll time.Duration
	// FlushTimeout bounds the last relay pass at shutdown; 0 means 3 s.
	FlushTimeout time.Duration
}

// Run handles the inbox, relays the outbox and fires deadline timers until
// ctx ends. Then it finishes the turns in flight, makes one last relay pass
// (bounded by FlushTimeout) and returns. Adapters call Wake after queueing
// inputs.
func (s *Service) Run(ctx context.Context, opts RunOptions) error {
	if opts.Senders <= 0 {
		opts.Senders = 64
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	if opts.FlushTimeout <= 0 {
		opts.FlushTimeout = 3 * time.Second
	}
	s.initWake()
	var wg sync.WaitGroup
	wg.Add(4)
	go func() { defer wg.Done(); s.runInbox(ctx, opts) }()
	go func() { defer wg.Done(); s.runRelay(ctx, opts) }()
	go func() { defer wg.Done(); s.runTimers(ctx, opts) }()
	go func() { defer wg.Done(); s.runPurges(ctx, opts) }()
	wg.Wait()
	s.typing.Wait()
	s.sending.Wait() // sends cut short by the stop stay queued for the next start

	flush, cancel := context.WithTimeout(context.Background(), opts.FlushTimeout)
	defer cancel()
	s.relayPass(flush, opts)
	s.sending.Wait()
	s.purge() // an erasure is never left half done at a stop
	return nil
}

// Wake tells the loops there is new work, so they need not wait for the
// next poll.
func (s *Service) Wake() {
	s.initWake()
	for _, ch := range []chan struct{}{s.wakeInbox, s.wakeRelay, s.wakeTimers} {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (s *Service) initWake() {
	s.wakeOnce.Do(func() {
		s.wakeInbox = make(chan struct{}, 1)
		s.wakeRelay = make(chan struct{}, 1)
		s.wakeTimers = make(chan struct{}, 1)
	})
}

func (s *Service) wakeOne(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// wait blocks until woken, the poll interval passes or ctx ends; it
// reports false when ctx ended.
func wait(ctx context.Context, wake <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-wake:
	case <-t.C:
	}
	return true
}

// runInbox handles a batch of pending inputs, then looks again. A turn in flight when ctx ends still completes:
// handle does not take ctx into the store transaction.
func (s *Service) runInbox(ctx context.Context, opts RunOptions) {
	for {
		items, err := s.Store.Pending(batch * 10)
		if err != nil {
			s.Log.Error("read inbox", "err", err)
		}
		if len(items) > 0 {
			failed := s.handleBatch(ctx, items)
			s.wakeOne(s.wakeRelay)
			s.wakeOne(s.wakeTimers)
			if ctx.Err() != nil {
				return
			}
			if !failed {
				continue
			}
			// A turn could not be saved (a full disk, say): do not spin on
			// it; try again after the poll interval.
		}
		if !wait(ctx, s.wakeInbox, opts.Poll) {
			return
		}
	}
}

// handleBatch handles items one after another, each conversation's in the
// order its platform numbered them, and reports whether any turn could not
// be saved. A conversation whose turn failed is skipped for the rest of the
// batch, so its order holds; the others go on.
//
// Turns run one at a time, and not for want of trying: a turn is one store
// transaction, and the store lets one writer in at a time, so a pool of
// workers only queued on its lock. This is the one place turns are run:
// committing several conversations' turns together belongs here.
func (s *Service) handleBatch(ctx context.Context, items []InboxItem) bool {
	stuck := map[string]bool{}
	failed := false
	for _, item := range inSentOrder(items) {
		if ctx.Err() != nil {
			return failed // stopping: the rest stays in the inbox for the next start
		}
		conv := conversationOf(item.Input)
		if stuck[conv] {
			continue
		}
		s.showTyping(ctx, item.Input)
		if err := s.handle(ctx, item); err != nil {
			if !errors.Is(err, ErrDiskFull) { // the store says that once, not per turn
				s.Log.Error("turn not saved; the input stays in the inbox", "err", err, "chat", item.Input.Chat, "case", item.Input.Case)
			}
			stuck[conv] = true
			failed = true
		}
	}
	return failed
}

// inSentOrder puts each conversation's platform updates in the order the
// platform numbered them, which may differ from the order they arrived:
// Telegram delivers a chat's updates to a webhook over several connections
// at once. Other inputs keep their places.
func inSentOrder(items []InboxItem) []InboxItem {
	slots := map[string][]int{}
	for i, item := range items {
		if _, ok := updateNumber(item.Input); ok {
			conv := conversationOf(item.Input)
			slots[conv] = append(slots[conv], i)
		}
	}
	out := slices.Clone(items)
	for _, idx := range slots {
		if len(idx) < 2 {
			continue
		}
		conv := make([]InboxItem, len(idx))
		for j, i := range idx {
			conv[j] = items[i]
		}
		slices.SortStableFunc(conv, func(a, b InboxItem) int {
			na, _ := updateNumber(a.Input)
			nb, _ := updateNumber(b.Input)
			return cmp.Compare(na, nb)
		})
		for j, i := range idx {
			out[i] = conv[j]
		}
	}
	return out
}

// updateNumber is a Telegram update's update_id, from its dedupe key.
func updateNumber(in dialog.Input) (int64, bool) {
	n, ok := strings.CutPrefix(in.Key, "tg:")
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(n, 10, 64)
	return v, err == nil
}

// conversationOf names the conversation an input belongs to, whose turns
// keep their order: a consumer's chat, or for agent and timer inputs their
// case.
func conversationOf(in dialog.Input) string {
	if in.Case != "" && (in.Kind == dialog.InputAgent || in.Kind == dialog.InputTimer) {
		return "case:" + in.Case
	}
	return in.Channel + ":" + in.Chat
}

// runRelay sends the outbox: the oldest entry of every destination at
// once, so one slow or rate-limited destination never holds up the others,
// while each destination's own messages keep their order. A send runs on
// its own; when it ends it wakes the relay for that destination's next.
func (s *Service) runRelay(ctx context.Context, opts RunOptions) {
	for {
		next := s.relayPass(ctx, opts)
		// A pass reads the head of every queue; running drains follow their
		// own queues meanwhile, so passes need not come faster than this.
		if !wait(ctx, nil, relayPassGap) || !wait(ctx, s.wakeRelay, min(next, opts.Poll)) {
			return
		}
	}
}

// relayPassGap is the least time between two relay passes: the first
// message to an idle chat may wait this long.
const relayPassGap = 5 * time.Millisecond

// relayPass starts a send for the head of every destination that is due
// and not already sending, up to opts.Senders at once. It returns how long
// until the earliest entry waiting for a retry is due.
func (s *Service) relayPass(ctx context.Context, opts RunOptions) time.Duration {
	if s.Store.Full() {
		// A send that cannot be marked sent would be sent again on every
		// pass: wait for space instead.
		return opts.Poll
	}
	heads, err := s.Store.OutboxHeads()
	if err != nil {
		s.Log.Error("read outbox", "err", err)
		return opts.Poll
	}
	now := s.Now()
	earliest := opts.Poll
	for _, item := range heads {
		dest := item.Output.Queue()
		if wait := item.NotBefore.Sub(now); wait > 0 {
			earliest = min(earliest, wait)
			continue
		}
		if ctx.Err() != nil || !s.startSend(dest, opts.Senders) {
			continue // busy with this destination, or at the limit: woken when one ends
		}
		go func(item OutboxItem) {
			defer s.endSend(dest)
			s.drain(ctx, item)
		}(item)
	}
	return earliest
}

// drain sends a queue's entries in order, starting with head, until the
// queue is empty, an entry must wait for a retry, or a send fails. The
// head may be stale (sent since the pass read it): it is looked up again
// first, so nothing is sent twice.
func (s *Service) drain(ctx context.Context, head OutboxItem) {
	queue := head.Output.Queue()
	item, ok, err := s.Store.QueueHead(queue)
	for ok && err == nil && ctx.Err() == nil {
		if item.NotBefore.After(s.Now()) {
			return // the relay's pass picks it up when due
		}
		if s.Store.Full() {
			return // the relay's pass waits for space
		}
		if err := s.deliver(ctx, item); err != nil {
			s.Log.Warn("send failed; will retry", "err", err, "to", item.Output.To, "chat", item.Output.Chat, "case", item.Output.Case, "attempt", item.Attempts+1)
			return
		}
		item, ok, err = s.Store.QueueHead(queue)
	}
	if err != nil {
		s.Log.Error("read outbox", "err", err, "queue", queue)
	}
}

// startSend claims a destination for one send; false if it is already
// sending or limit sends are running.
func (s *Service) startSend(dest string, limit int) bool {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	if s.inFlight == nil {
		s.inFlight = map[string]bool{}
	}
	if s.inFlight[dest] || len(s.inFlight) >= limit {
		return false
	}
	s.inFlight[dest] = true
	s.sending.Add(1)
	return true
}

func (s *Service) endSend(dest string) {
	s.sendMu.Lock()
	delete(s.inFlight, dest)
	s.sendMu.Unlock()
	s.sending.Done()
	s.wakeOne(s.wakeRelay)
}

// runPurges purges erased data from the disk within a poll interval of an
// erasure, however many erasures came in that interval.
func (s *Service) runPurges(ctx context.Context, opts RunOptions) {
	t := time.NewTicker(opts.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.purge()
		}
	}
}

// runTimers sleeps until the earliest deadline timer, then fires what is
// due. It reads the index, never the complaints.
func (s *Service) runTimers(ctx context.Context, opts RunOptions) {
	for {
		n, err := s.queueDueTimers(s.Now())
		if err != nil && !errors.Is(err, ErrDiskFull) {
			s.Log.Error("fire timers", "err", err)
		}
		if n > 0 {
			s.wakeOne(s.wakeInbox)
		}
		sleep := time.Hour
		if next, ok, err := s.Store.NextTimer(); err == nil && ok {
			// At least a moment, so a timer that keeps failing cannot spin.
			sleep = max(next.At.Sub(s.Now()), 50*time.Millisecond)
		}
		if err != nil {
			sleep = max(sleep, opts.Poll)
		}
		if !wait(ctx, s.wakeTimers, min(sleep, time.Hour)) {
			return
		}
	}
}

// Typist is a consumer channel that can show "typing…" while a turn waits.
type Typist interface {
	Typing(ctx context.Context, chat string)
}

// showTyping tells a consumer the bot is on it when their input has waited
// in the inbox for more than a second, as under load.
func (s *Service) showTyping(ctx context.Context, in dialog.Input) {
	if in.Kind == dialog.InputAgent || in.Kind == dialog.InputTimer || in.At.IsZero() || s.Now().Sub(in.At) < time.Second {
		return
	}
	if t, ok := s.Consumers[in.Channel].(Typist); ok {
		// Beside the turn, not before it; Run waits for it on a stop.
		s.typing.Go(func() { t.Typing(ctx, in.Chat) })
	}
}
