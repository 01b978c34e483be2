package dialog

import (
	"time"

	"ombud/policies"
)

// State is where a conversation's intake stands.
type State string

// Intake states. A conversation moves through them once per complaint.
const (
	StateNew            State = "new"             // never spoken to, or after /new
	StatePrivacy        State = "privacy"         // greeting and privacy notice shown
	StateIssuer         State = "issuer"          // choosing the issuer
	StateContacted      State = "contacted"       // asked: contacted customer service?
	StateFirstStep      State = "first_step"      // shown the first step; file anyway?
	StateFirstComplaint State = "first_complaint" // asked: when did you first complain?
	StatePriorAnswer    State = "prior_answer"    // asked: what answer did you get?
	StateField          State = "field"           // asking the policy's fields
	StateReview         State = "review"          // all answers shown for checking
	StateEditing        State = "editing"         // changing one answer from the review
	StateSubmitted      State = "submitted"       // filed: the session follows its case
	StateCancelled      State = "cancelled"       // the draft was dropped
	StateParked         State = "parked"          // the consumer will contact customer service first
)

// Prior is the answer the consumer had from the issuer before filing.
type Prior string

// Prior answers the consumer may have had from the issuer.
const (
	PriorNone     Prior = "none"     // no answer yet
	PriorRejected Prior = "rejected" // said no
	PriorPartial  Prior = "partial"  // partly yes
	PriorOther    Prior = "other"    // answered, but the consumer is not satisfied
)

// Session is one consumer conversation: where the intake stands and the
// answers so far. It is all the state the dialog needs between turns.
type Session struct {
	Channel string `json:"channel"`
	Chat    string `json:"chat"`
	Lang    string `json:"lang"`
	// LangChosen: the consumer picked the language, so the platform's
	// language code no longer overrides it.
	LangChosen bool `json:"lang_chosen,omitempty"`
	// OwnLang is the consumer's own language while the conversation is in
	// an issuer's instead, because the issuer's rules are not in theirs; a
	// new complaint goes back to it.
	OwnLang string `json:"own_lang,omitempty"`
	State   State  `json:"state"`
	Issuer  string `json:"issuer,omitempty"`
	// Field is the policy field being asked in StateField or StateEditing.
	Field string `json:"field,omitempty"`
	// Contacted: the consumer has already been in touch with the issuer.
	Contacted      bool              `json:"contacted,omitempty"`
	FirstComplaint policies.Date     `json:"first_complaint,omitzero"`
	PriorAnswer    Prior             `json:"prior_answer,omitempty"`
	Answers        map[string]Answer `json:"answers,omitempty"`
	// Sources maps the platform id of a message to the field it answered,
	// so an edited message updates that answer.
	Sources map[string]string `json:"sources,omitempty"`
	// Back is the stack of earlier positions for /back.
	Back []Position `json:"back,omitempty"`
	// Blocked: the platform refused our last message for good (the
	// consumer blocked the bot). Nothing is sent until they write again.
	Blocked bool `json:"blocked,omitempty"`
	// Case is the complaint the conversation follows: the one filed last,
	// or the one the consumer or an agent turned to since. Messages after
	// filing go to it.
	Case string `json:"case,omitempty"`
	// Cases are every complaint this conversation filed, oldest first, so
	// none is lost from /status while another is written.
	Cases []string `json:"cases,omitempty"`
	// Keyboard numbers the buttons shown last. A button press counts only
	// if it carries this number: buttons stay on screen, and pressable,
	// long after the question that showed them.
	Keyboard int `json:"keyboard,omitempty"`
	// Confirm is the confirmation the buttons shown last ask for, such as
	// discarding the draft; empty when they ask none.
	Confirm   string    `json:"confirm,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// filed returns the complaints the conversation filed, including one
// recorded only as Case by an older version of Ombud.
func (s Session) filed() []string {
	if len(s.Cases) == 0 && s.Case != "" {
		return []string{s.Case}
	}
	return s.Cases
}

// Position is a place in the intake that /back can return to.
type Position struct {
	State State  `json:"state"`
	Field string `json:"field,omitempty"`
}

// Answer is the consumer's answer to one policy field.
type Answer struct {
	// Value is the normalised answer: a date as YYYY-MM-DD, a choice id,
	// "yes"/"no", an amount as "1250.00 SEK", the text itself.
	Value string `json:"value"`
	// Display is the answer as shown back to the consumer and agents.
	Display     string       `json:"display"`
	Attachments []Attachment `json:"attachments,omitempty"`
	Skipped     bool         `json:"skipped,omitempty"`
}

// SessionKey identifies a session in storage: channel and chat.
func SessionKey(channel, chat string) string { return channel + ":" + chat }
