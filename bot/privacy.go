package bot

import (
	"time"

	"ombud/dialog"
)

// privacy carries out a consumer's request about all their data inside
// the turn's transaction: the dialog decided and words it, the service
// loads and saves the data. It reports whether the store must be purged
// once the transaction commits.
func (s *Service) privacy(tx Tx, req dialog.PrivacyRequest, in dialog.Input, key string, sess dialog.Session, now time.Time) (purge bool, err error) {
	data := dialog.ConsumerData{Channel: in.Channel, Chat: in.Chat, Session: sess}
	if err := tx.Complaints(func(c dialog.Complaint) error {
		if c.Channel == in.Channel && c.Chat == in.Chat {
			data.Cases = append(data.Cases, c)
		}
		return nil
	}); err != nil {
		return false, err
	}
	var held []Failed
	if err := tx.FailedInputs(func(f Failed) error {
		if f.Input.Channel == in.Channel && f.Input.Chat == in.Chat {
			held = append(held, f)
			data.Held = append(data.Held, f.Input)
		}
		return nil
	}); err != nil {
		return false, err
	}

	outcome, err := s.Engine.CarryOut(req, data, now)
	if err != nil {
		return false, err
	}
	if outcome.Forget {
		if err := tx.DeleteSession(key); err != nil {
			return false, err
		}
		for _, f := range held {
			if err := tx.DeleteFailed(f.Seq); err != nil {
				return false, err
			}
		}
	}
	for _, c := range outcome.Erased {
		if err := s.saveErased(tx, c); err != nil {
			return false, err
		}
	}
	return outcome.Forget, tx.AddOutbox(outcome.Outputs...)
}

// erase erases one case whose retention has ended.
func (s *Service) erase(tx Tx, c dialog.Complaint, now time.Time) error {
	if c.Erased {
		return nil
	}
	erased, notice := s.Engine.EraseCase(c, now)
	if err := s.saveErased(tx, erased); err != nil {
		return err
	}
	return tx.AddOutbox(notice)
}

// saveErased saves a case in its erased form and drops its timers.
func (s *Service) saveErased(tx Tx, c dialog.Complaint) error {
	if err := tx.PutComplaint(c); err != nil {
		return err
	}
	return tx.ReplaceTimers(c.ID, nil)
}
