package dialog

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Privacy commands and their buttons.
const (
	CommandMyData = "mydata"
	CommandDelete = "delete"

	// dataErase and dataKeep answer the erase confirmation.
	dataErase = "erase:yes"
	dataKeep  = "erase:no"
)

// erased replaces personal text that the register cannot keep.
const erased = "[erased]"

// Pseudonymised is the complaint as the issuer's register may keep it after
// the consumer's data is erased or its retention ends: case number, issuer,
// dates, deadlines, status, outcome and who handled it, with nothing that
// leads back to the consumer (no chat, no answers, no free text).
func (c Complaint) Pseudonymised(at time.Time) Complaint {
	p := c
	p.Channel, p.Chat = "", ""
	p.Answers = nil
	p.ExtendedReason = ""
	if c.ExtendedReason != "" {
		p.ExtendedReason = erased
	}
	if c.Decision != nil {
		d := *c.Decision
		d.Text = erased
		p.Decision = &d
	}
	p.History = nil
	for _, e := range c.History {
		if e.Text != "" {
			e.Text = erased
		}
		p.History = append(p.History, e)
	}
	if c.RatingComment != "" {
		p.RatingComment = erased
	}
	p.History = append(p.History, Event{At: at.UTC(), Kind: EventErased, By: "ombud"})
	p.Erased = true
	return p
}

// ConsumerData is everything held about one consumer: the caller loads it
// for a privacy request, since the store holds it and the dialog does not.
type ConsumerData struct {
	Channel, Chat string
	Session       Session
	Cases         []Complaint
	// Held are the consumer's inputs kept aside after a fault, for an
	// operator to replay.
	Held []Input
}

// PrivacyOutcome is what carrying out a privacy request changes. The
// caller saves it in one transaction.
type PrivacyOutcome struct {
	Outputs []Output
	// Erased are the consumer's cases as the register may keep them, to
	// save in place of the originals; their timers go with the data.
	Erased []Complaint
	// Forget: delete the conversation and the held inputs.
	Forget bool
}

// consumerExport is the document /mydata sends: everything Ombud holds
// about a consumer.
type consumerExport struct {
	Exported   time.Time   `json:"exported"`
	Channel    string      `json:"channel"`
	Chat       string      `json:"chat"`
	Session    *Session    `json:"conversation,omitempty"`
	Complaints []Complaint `json:"complaints"`
	Unhandled  []Input     `json:"unhandled,omitempty"`
}

// CarryOut carries out a consumer's privacy request, decided and confirmed
// in an earlier turn (Result.Privacy), over the data the caller loaded:
// an export is a document of all of it; an erasure forgets the
// conversation, keeps each case in the register pseudonymised, and asks
// the desk to remove the consumer's words from its copies.
func (e *Engine) CarryOut(req PrivacyRequest, d ConsumerData, now time.Time) (PrivacyOutcome, error) {
	pr := e.Catalog.Printer(d.Session.Lang)
	say := func(notice Notice, key string, data map[string]any, doc *Document) Output {
		return Output{To: ToConsumer, Channel: d.Channel, Chat: d.Chat, Notice: notice, Key: key, Text: pr.Text(key, data), Document: doc}
	}
	switch req {
	case PrivacyExport:
		doc := consumerExport{Exported: now.UTC(), Channel: d.Channel, Chat: d.Chat, Session: &d.Session, Complaints: d.Cases, Unhandled: d.Held}
		if doc.Complaints == nil {
			doc.Complaints = []Complaint{}
		}
		data, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return PrivacyOutcome{}, fmt.Errorf("dialog: export: %w", err)
		}
		return PrivacyOutcome{Outputs: []Output{say("", "privacy.export", nil,
			&Document{Name: "ombud-mydata.json", MIME: "application/json", Data: data})}}, nil
	case PrivacyErase:
		out := PrivacyOutcome{Forget: true}
		var ids []string
		for _, c := range d.Cases {
			if c.Erased {
				continue
			}
			erased, notice := e.EraseCase(c, now)
			out.Erased = append(out.Erased, erased)
			out.Outputs = append(out.Outputs, notice)
			ids = append(ids, c.ID)
		}
		if len(ids) == 0 {
			out.Outputs = append(out.Outputs, say(NoticeErased, "privacy.erased_none", nil, nil))
		} else {
			out.Outputs = append(out.Outputs, say(NoticeErased, "privacy.erased", map[string]any{"Cases": strings.Join(ids, ", ")}, nil))
		}
		return out, nil
	}
	return PrivacyOutcome{}, fmt.Errorf("dialog: unknown privacy request %q", req)
}

// Undeliverable is the desk's notice that a message on a case could not
// reach the consumer, for the reason given.
func (e *Engine) Undeliverable(out Output, reason string) Output {
	return Output{To: ToAgents, Channel: out.Channel, Chat: out.Chat, Case: out.Case, Issuer: out.Issuer, Key: "agent.undeliverable",
		Text: e.deskPrinter(out.Issuer).Text("agent.undeliverable", map[string]any{"Case": out.Case, "Reason": reason})}
}

// EraseCase is one case with its personal data gone, as the register may
// keep it, and the desk's notice to remove it from its own copies. Its
// timers go too; the caller drops them.
func (e *Engine) EraseCase(c Complaint, now time.Time) (Complaint, Output) {
	return c.Pseudonymised(now), Output{To: ToAgents, Case: c.ID, Issuer: c.Issuer, Notice: NoticeRedact, Key: "agent.erased",
		Text: e.deskPrinter(c.Issuer).Text("agent.erased", map[string]any{"Case": c.ID})}
}
