package dialog

import "time"

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
	p.History = append(p.History, Event{At: at.UTC(), Kind: "erased", By: "ombud"})
	p.Erased = true
	return p
}
