package bot

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"ombud/dialog"
	"ombud/store"
)

// isPrivacy reports whether an input is a data request: /mydata, /delete or
// the answer to the erase confirmation. They concern all of a consumer's
// data, which the store holds and the dialog does not, so the shell serves
// them.
func isPrivacy(in dialog.Input) bool {
	switch {
	case in.Kind == dialog.InputCommand:
		return in.Command == dialog.CommandMyData || in.Command == dialog.CommandDelete
	case in.Kind == dialog.InputChoice:
		return in.Data == dialog.DataErase || in.Data == dialog.DataKeep
	}
	return false
}

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

// privacy answers a data request inside the turn's transaction. It reports
// whether the store must be purged once the transaction commits.
func (s *Service) privacy(tx *store.Tx, in dialog.Input, key string, sess dialog.Session, found bool, now time.Time) (purge bool, err error) {
	lang := sess.Lang
	if lang == "" {
		lang = s.Engine.Catalog.Match(in.Lang)
	}
	pr := s.Engine.Catalog.Printer(lang)
	say := func(key string, data map[string]any, doc *dialog.Document, buttons ...[]dialog.Button) error {
		return tx.AddOutbox(dialog.Output{To: dialog.ToConsumer, Channel: in.Channel, Chat: in.Chat,
			Key: key, Text: pr.Text(key, data), Document: doc, Buttons: buttons})
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

	switch {
	case in.Command == dialog.CommandMyData:
		doc := export{Exported: now.UTC(), Channel: in.Channel, Chat: in.Chat, Complaints: cases}
		for _, f := range failed {
			doc.Unhandled = append(doc.Unhandled, f.Input)
		}
		if found {
			doc.Session = &sess
		}
		data, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return false, fmt.Errorf("bot: export: %w", err)
		}
		return false, say("privacy.export", nil, &dialog.Document{Name: "ombud-mydata.json", MIME: "application/json", Data: data})

	case in.Command == dialog.CommandDelete:
		return false, say("privacy.delete_confirm", nil, nil,
			[]dialog.Button{{Label: pr.Text("button.erase", nil), Data: dialog.DataErase}},
			[]dialog.Button{{Label: pr.Text("button.keep", nil), Data: dialog.DataKeep}})

	case in.Data == dialog.DataKeep:
		return false, say("privacy.delete_cancelled", nil, nil)
	}

	// Erase: the conversation goes; each case stays in the register,
	// pseudonymised, and its Slack thread is redacted.
	if found {
		if err := tx.DeleteSession(key); err != nil {
			return false, err
		}
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
