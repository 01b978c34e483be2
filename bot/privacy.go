package bot

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"ombud/dialog"
	"ombud/store"
)

// export is what /mydata sends: everything Ombud holds about a consumer.
type export struct {
	Exported   time.Time          `json:"exported"`
	Channel    string             `json:"channel"`
	Chat       string             `json:"chat"`
	Session    *dialog.Session    `json:"conversation,omitempty"`
	Complaints []dialog.Complaint `json:"complaints"`
	// Unhandled are messages Ombud could not handle because of a fault,
	// kept for an operator to replay.
	Unhandled []dialog.Input `json:"unhandled,omitempty"`
}

// privacy carries out a consumer's request about all their data inside
// the turn's transaction: the dialog decided it, with its confirmation;
// the shell holds the data. It reports whether the store must be purged
// once the transaction commits.
func (s *Service) privacy(tx *store.Tx, req dialog.PrivacyRequest, in dialog.Input, key string, sess dialog.Session, now time.Time) (purge bool, err error) {
	pr := s.Engine.Catalog.Printer(sess.Lang)
	say := func(key string, data map[string]any, doc *dialog.Document) error {
		return tx.AddOutbox(dialog.Output{To: dialog.ToConsumer, Channel: in.Channel, Chat: in.Chat,
			Key: key, Text: pr.Text(key, data), Document: doc})
	}
	var cases []dialog.Complaint
	if err := tx.Complaints(func(c dialog.Complaint) error {
		if c.Channel == in.Channel && c.Chat == in.Chat {
			cases = append(cases, c)
		}
		return nil
	}); err != nil {
		return false, err
	}

	var failed []store.Failed
	if err := tx.FailedInputs(func(f store.Failed) error {
		if f.Input.Channel == in.Channel && f.Input.Chat == in.Chat {
			failed = append(failed, f)
		}
		return nil
	}); err != nil {
		return false, err
	}

	if req == dialog.PrivacyExport {
		doc := export{Exported: now.UTC(), Channel: in.Channel, Chat: in.Chat, Session: &sess, Complaints: cases}
		for _, f := range failed {
			doc.Unhandled = append(doc.Unhandled, f.Input)
		}
		data, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return false, fmt.Errorf("bot: export: %w", err)
		}
		return false, say("privacy.export", nil, &dialog.Document{Name: "ombud-mydata.json", MIME: "application/json", Data: data})
	}

	// Erase: the conversation goes; each case stays in the register,
	// pseudonymised, and its Slack thread is redacted.
	if err := tx.DeleteSession(key); err != nil {
		return false, err
	}
	for _, f := range failed {
		if err := tx.DeleteFailed(f.Seq); err != nil {
			return false, err
		}
	}
	var ids []string
	for _, c := range cases {
		if err := s.erase(tx, c, now); err != nil {
			return false, err
		}
		ids = append(ids, c.ID)
	}
	if len(ids) == 0 {
		return true, say("privacy.erased_none", nil, nil)
	}
	return true, say("privacy.erased", map[string]any{"Cases": strings.Join(ids, ", ")}, nil)
}

// erase pseudonymises one case, drops its timers and asks the desk to
// redact its thread.
func (s *Service) erase(tx *store.Tx, c dialog.Complaint, now time.Time) error {
	if c.Erased {
		return nil
	}
	if err := tx.PutComplaint(c.Pseudonymised(now)); err != nil {
		return err
	}
	if err := tx.ReplaceTimers(c.ID, nil); err != nil {
		return err
	}
	return tx.AddOutbox(dialog.Output{To: dialog.ToAgents, Case: c.ID, Issuer: c.Issuer, Key: "agent.erased",
		Text: s.Engine.Catalog.Printer("en").Text("agent.erased", map[string]any{"Case": c.ID})})
}
