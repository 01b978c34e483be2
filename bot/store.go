package bot

import (
	"errors"
	"time"

	"ombud/dialog"
)

// The durable state the service runs on is declared here, where it is
// used: package store implements it on Badger, storetest checks any
// implementation against the same contract, and adapters see only the
// small parts they need (an Inbox, Refs).

// Errors a Store returns; test for them with errors.Is.
var (
	// ErrNotFound: nothing is stored under the key asked for.
	ErrNotFound = errors.New("store: not found")
	// ErrDiskFull: the store keeps a reserve of free space and would have
	// gone below it, so nothing was written. It passes by itself when
	// space returns.
	ErrDiskFull = errors.New("store: the data disk is full")
)

// InboxItem is a received input waiting to be handled.
type InboxItem struct {
	Seq   uint64 // arrival order
	Input dialog.Input
}

// Cursor is a platform's position in its update stream, such as the
// Telegram getUpdates offset. It is stored with the inputs it covers, so
// the position never moves past an input that was not saved.
type Cursor struct {
	Name  string
	Value int64
}

// OutboxItem is a message waiting to be sent.
type OutboxItem struct {
	Seq       uint64 // queue order
	Output    dialog.Output
	Attempts  int       // failed sends so far
	NotBefore time.Time // do not send before this; zero: at once
	LastError string    // why the last attempt failed
	Queued    time.Time // when it was queued
}

// Failed is an input whose turn failed inside Ombud (a bug, a panic). It
// is kept, not lost, so an operator can see it and replay it once fixed.
type Failed struct {
	Seq   uint64       `json:"seq"`
	Input dialog.Input `json:"input"`
	Error string       `json:"error"`
	At    time.Time    `json:"at"`
}

// Ref is an adapter's cross-reference, such as the Slack thread of a case
// (Kind "slack.thread", Key the case id) or the case of a thread.
type Ref struct {
	Kind, Key, Value string
}

// Inbox is where a platform adapter hands over what arrived.
type Inbox interface {
	// Enqueue writes inputs, and cursor if not nil, in one durable
	// transaction: once it returns, the platform may be told they
	// arrived. An input whose Key is queued or was handled recently is
	// skipped. It returns how many inputs were added.
	Enqueue(cursor *Cursor, inputs ...dialog.Input) (added int, err error)
	// Cursor is the value of a cursor and when it was stored.
	Cursor(name string) (value int64, at time.Time, ok bool, err error)
}

// Refs are an adapter's cross-references, kept with the rest.
type Refs interface {
	Ref(kind, key string) (value string, ok bool, err error)
	PutRef(kind, key, value string) error
	// PutRefs records several in one transaction.
	PutRefs(refs ...Ref) error
}

// Store is the durable state of conversations, cases and queues.
type Store interface {
	Inbox
	Refs
	// Update runs fn in a read-write transaction and commits it; an error
	// from fn writes nothing. fn may run again after a conflict, so it
	// must have no effects outside tx.
	Update(fn func(Tx) error) error
	// View runs fn over a consistent snapshot; writes in it fail.
	View(fn func(Tx) error) error

	// Pending is up to limit inputs not yet handled, in arrival order.
	Pending(limit int) ([]InboxItem, error)

	// Outbox is up to limit queued messages in queue order (all when
	// limit <= 0), those waiting for a retry included.
	Outbox(limit int) ([]OutboxItem, error)
	// OutboxHeads is the oldest message of every queue.
	OutboxHeads() ([]OutboxItem, error)
	// QueueHead is the oldest message of one queue (dialog.Output.Queue).
	QueueHead(queue string) (item OutboxItem, ok bool, err error)
	OutboxLen() (int, error)
	// MarkSent removes a sent message; ErrNotFound if it is gone.
	MarkSent(seq uint64) error
	// Retry counts a failed attempt and holds the message until notBefore.
	Retry(seq uint64, notBefore time.Time, lastErr string) error
	// Postpone holds the message until notBefore without counting an
	// attempt: the platform asked to wait.
	Postpone(seq uint64, notBefore time.Time, reason string) error

	// NextTimer is the earliest timer, if any.
	NextTimer() (t dialog.Timer, ok bool, err error)
	// DueTimers is up to limit timers due at now, earliest first.
	DueTimers(now time.Time, limit int) ([]dialog.Timer, error)

	// Complaints calls fn for every case, in case-number order.
	Complaints(fn func(dialog.Complaint) error) error
	// Purge makes deleted and overwritten data unrecoverable from the
	// store's files, after an erasure.
	Purge() error
	// Full reports whether writes are refused for want of space
	// (ErrDiskFull): nothing should be sent that could not be marked sent.
	Full() bool
}

// Tx is one transaction of a Store: the reads and writes of a turn.
type Tx interface {
	Session(key string) (dialog.Session, error)
	PutSession(key string, s dialog.Session) error
	DeleteSession(key string) error

	Complaint(id string) (dialog.Complaint, error)
	PutComplaint(c dialog.Complaint) error
	Complaints(fn func(dialog.Complaint) error) error
	// NextCaseNumber allocates the next number for a prefix and year,
	// from 1.
	NextCaseNumber(prefix string, year int) (int, error)

	AddOutbox(outs ...dialog.Output) error
	DropOutbox(seq uint64) error

	// Done takes a handled item out of the inbox and remembers its key.
	Done(item InboxItem) error
	// Fail is Done for an item whose turn failed, keeping it with reason.
	Fail(item InboxItem, reason string) error
	FailedInputs(fn func(Failed) error) error
	DeleteFailed(seq uint64) error

	// ReplaceTimers sets all timers of a case; nil removes them.
	ReplaceTimers(caseID string, timers []dialog.Timer) error
	DeleteTimer(t dialog.Timer) error
}
