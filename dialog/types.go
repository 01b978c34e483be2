package dialog

import (
	"encoding/json"
	"time"
)

// InputKind says what an input is.
type InputKind string

const (
	// InputMessage is text the consumer wrote, possibly with an attachment.
	InputMessage InputKind = "message"
	// InputChoice is a button the consumer pressed; Data holds its value.
	InputChoice InputKind = "choice"
	// InputCommand is a slash command; Command and Arg hold it.
	InputCommand InputKind = "command"
	// InputResume asks for the current question again, as when a terminal
	// session restarts.
	InputResume InputKind = "resume"
	// InputAgent is an agent acting on a case; Agent holds the action.
	InputAgent InputKind = "agent"
	// InputTimer is a deadline timer firing; Timer holds it.
	InputTimer InputKind = "timer"
)

// Consumer commands.
const (
	CommandStart    = "start"
	CommandNew      = "new"
	CommandStatus   = "status"
	CommandLanguage = "language"
	CommandCancel   = "cancel"
	CommandBack     = "back"
	CommandHelp     = "help"
)

// Input is one thing that happened in a conversation.
type Input struct {
	// Key identifies the input for deduplication, such as "tg:812345"
	// (a Telegram update_id) or "slack:Ev0123" (a Slack event_id).
	Key     string    `json:"key"`
	Kind    InputKind `json:"kind"`
	Channel string    `json:"channel"`        // consumer channel: console, telegram
	Chat    string    `json:"chat,omitempty"` // consumer conversation id within the channel
	// Lang is the platform's language code for the consumer, such as "sv-SE".
	Lang       string      `json:"lang,omitempty"`
	Text       string      `json:"text,omitempty"`
	Data       string      `json:"data,omitempty"` // button value
	Command    string      `json:"command,omitempty"`
	Arg        string      `json:"arg,omitempty"`
	Attachment *Attachment `json:"attachment,omitempty"`
	// Ref is the platform's id of the message, so a later edit of it can
	// be applied to the answer it gave.
	Ref string `json:"ref,omitempty"`
	// Edited marks a corrected earlier message (Telegram edited_message);
	// Ref names the message corrected.
	Edited bool `json:"edited,omitempty"`
	// Unsupported names what the consumer sent that Ombud cannot take,
	// such as a sticker or a location; the message has nothing else.
	Unsupported string       `json:"unsupported,omitempty"`
	Case        string       `json:"case,omitempty"` // the case an agent or timer input is about
	Agent       *AgentAction `json:"agent,omitempty"`
	Timer       *Timer       `json:"timer,omitempty"`
	At          time.Time    `json:"at"`
}

// Attachment is a file the consumer sent, kept by reference: the platform
// holds the bytes.
type Attachment struct {
	FileID string `json:"file_id"`
	Name   string `json:"name,omitempty"`
	MIME   string `json:"mime,omitempty"`
	Size   int64  `json:"size,omitempty"`
}

// Action is what an agent does on a case.
type Action string

// Agent actions on a case.
const (
	ActionReply  Action = "reply"  // text for the consumer
	ActionNote   Action = "note"   // internal; never reaches the consumer
	ActionClaim  Action = "claim"  // the agent takes the case
	ActionExtend Action = "extend" // holding reply with a reason
	ActionDecide Action = "decide" // a decision with its text
	ActionClose  Action = "close"
	ActionReopen Action = "reopen"
)

// Outcome is the issuer's decision on a complaint.
type Outcome string

// Outcomes of a decision.
const (
	OutcomeUpheld   Outcome = "upheld"
	OutcomePartial  Outcome = "partial"
	OutcomeRejected Outcome = "rejected"
)

// AgentAction is what an agent did on a case.
type AgentAction struct {
	Action  Action  `json:"action"`
	Agent   string  `json:"agent"` // display name shown to the consumer
	Text    string  `json:"text,omitempty"`
	Outcome Outcome `json:"outcome,omitempty"` // for ActionDecide
}

// TimerKind says what a timer does when it fires.
type TimerKind string

// Timer kinds.
const (
	TimerReminder TimerKind = "reminder" // a deadline is near: remind the agents
	TimerDue      TimerKind = "due"      // a deadline has passed
	TimerPurge    TimerKind = "purge"    // the retention of a closed case's personal data has ended
	TimerRefresh  TimerKind = "refresh"  // a new day: the desk's view of the days left is redrawn
)

// Timer is a deadline event scheduled for a case.
type Timer struct {
	Case     string    `json:"case"`
	Kind     TimerKind `json:"kind"`
	Deadline string    `json:"deadline"` // the policy deadline id, such as "decision"
	At       time.Time `json:"at"`
}

// Recipient says who an output is for.
type Recipient string

const (
	ToConsumer Recipient = "consumer"
	ToAgents   Recipient = "agents"
)

// Notice says what an output means for the desk beyond its text, so an
// adapter acts on a typed value, never on a message key.
type Notice string

const (
	// NoticeCaseOpened: a new case; its text is the desk's first view of it.
	NoticeCaseOpened Notice = "case_opened"
	// NoticeRedraw: the case's view changed and nothing else is said; the
	// desk brings its summary up to date. Its text is for logs only.
	NoticeRedraw Notice = "redraw"
	// NoticeDelivered: the agent's message named by Receipt reached the
	// consumer; the desk marks it. It has no text.
	NoticeDelivered Notice = "delivered"
	// NoticeRedact: the consumer's personal data is erased; the desk
	// removes it from its own copies, then shows the text.
	NoticeRedact Notice = "redact"
	// NoticeReminder: a deadline is near.
	NoticeReminder Notice = "reminder"
	// NoticeBreach: a deadline passed unmet.
	NoticeBreach Notice = "breach"

	// NoticeHelp: the consumer asked for help; a channel may add its own.
	NoticeHelp Notice = "help"
	// NoticeErased: the consumer's data is erased; a channel deletes what
	// it keeps of theirs, such as exported files.
	NoticeErased Notice = "erased"
)

// Output is one message to send.
type Output struct {
	To      Recipient `json:"to"`
	Channel string    `json:"channel,omitempty"` // consumer channel
	Chat    string    `json:"chat,omitempty"`    // consumer conversation
	Case    string    `json:"case,omitempty"`    // the case it concerns
	Issuer  string    `json:"issuer,omitempty"`  // for routing agent messages
	// Notice, if set, is what the output means for the desk; adapters act
	// on it.
	Notice Notice `json:"notice,omitempty"`
	// Key is the catalog id of the main message, for tests and logs only:
	// adapters never look at it.
	Key     string     `json:"key"`
	Text    string     `json:"text"`
	Buttons [][]Button `json:"buttons,omitempty"`
	// Receipt names the agent's message this output relays, such as
	// "slack:C0123:1700000000.000100"; once the consumer has it, the agents'
	// desk marks that message delivered.
	Receipt string `json:"receipt,omitempty"`
	// Document is a file for the consumer, such as their data export.
	Document *Document `json:"document,omitempty"`
	// Attachment is a consumer's file for the agents: the desk copies it
	// from the consumer's channel.
	Attachment *Attachment `json:"attachment,omitempty"`
	// ID is the outbox sequence number, set when the output is sent, so a
	// platform can tell a resend from a new message.
	ID string `json:"-"`
}

// Queue names the queue an output keeps its order in: a consumer's chat,
// or an issuer's desk (one agents' channel, paced as one). Outputs of one
// queue are delivered in the order they were made; queues are independent.
// The desk's delivered marks have a queue of their own: they follow no
// order, and go at a slower tier than posts, which must not wait for them.
func (o Output) Queue() string {
	if o.To == ToAgents && o.Notice == NoticeDelivered {
		return "agents:" + o.Issuer + ":marks"
	}
	if o.To == ToAgents {
		return "agents:" + o.Issuer
	}
	return "consumer:" + o.Channel + ":" + o.Chat
}

// Document is a file Ombud sends.
type Document struct {
	Name string `json:"name"`
	MIME string `json:"mime"`
	Data []byte `json:"data"`
}

// Button is one option offered with a message.
type Button struct {
	Label string `json:"label"`
	Data  string `json:"data"`
}

// legacyNotices are the notices of outputs queued before notices had a
// field of their own, by the keys they were told apart by then. Outboxes
// written by an older Ombud are read through it once after an upgrade.
var legacyNotices = map[string]Notice{
	"agent.case_new": NoticeCaseOpened, "agent.header": NoticeRedraw, "agent.delivered": NoticeDelivered,
	"agent.erased": NoticeRedact, "agent.reminder": NoticeReminder, "agent.deadline_passed": NoticeBreach,
}

// UnmarshalJSON reads an output, giving one queued by an older Ombud the
// notice its key stood for.
func (o *Output) UnmarshalJSON(b []byte) error {
	type plain Output // without this method
	if err := json.Unmarshal(b, (*plain)(o)); err != nil {
		return err
	}
	if o.Notice == "" && o.To == ToAgents {
		o.Notice = legacyNotices[o.Key]
	}
	return nil
}
