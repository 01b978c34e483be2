package slack

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"ombud/dialog"
)

// Action ids of the header's buttons and the modals they open.
const (
	actionClaim  = "ombud_claim"
	actionHold   = "ombud_hold"
	actionDecide = "ombud_decide"
	actionClose  = "ombud_close"
	actionReopen = "ombud_reopen"

	viewHold   = "ombud_hold_view"
	viewDecide = "ombud_decide_view"
)

// sectionLimit is Slack's limit for a section's text.
const sectionLimit = 3000

// headerText is the root message's plain fallback, for notifications.
func headerText(c dialog.Complaint) string {
	return fmt.Sprintf("Case %s (%s): %s", c.ID, c.Issuer, c.Status)
}

// header is the case at a glance: who, status, the dates that bind the
// issuer with the working days left, the answers, and the buttons.
func (c *Client) header(comp dialog.Complaint) []slack.Block {
	issuer := comp.Issuer
	var left func(d dialog.CaseDeadline) string
	if p, ok := c.cfg.Policies().Get(comp.Issuer); ok {
		issuer = p.Name.In("en")
		left = func(d dialog.CaseDeadline) string {
			n, unit := comp.Left(d, p, c.cfg.Now())
			switch {
			case d.Met:
				return "met"
			case d.Breached || n < 0:
				return ":warning: *missed*"
			case n == 0:
				return "due today"
			}
			word := map[string]string{"working_days": "working day", "calendar_days": "day", "hours": "hour"}[unit]
			if n != 1 {
				word += "s"
			}
			return fmt.Sprintf("%d %s left", n, word)
		}
	}
	status := string(comp.Status)
	if comp.ClaimedBy != "" {
		status += " · claimed by " + comp.ClaimedBy
	}
	if comp.Decision != nil {
		status += " · " + string(comp.Decision.Outcome) + " by " + comp.Decision.By
	}
	md := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
	}
	fields := []*slack.TextBlockObject{
		md("*Status*\n" + escape(status)),
		md("*Received*\n" + comp.ReceivedDate.String()),
		md("*Language*\n" + comp.Lang),
		md("*Policy version*\n" + comp.PolicyVersion),
	}
	var dates []string
	for _, d := range comp.Deadlines {
		line := fmt.Sprintf("*%s*: %s", escape(d.Label), d.Due)
		if d.Extended != nil {
			if comp.ExtendedReason != "" {
				line = fmt.Sprintf("*%s*: ~%s~ %s (extended)", escape(d.Label), d.Due, *d.Extended)
			} else {
				line += fmt.Sprintf(" (%s with a holding reply)", *d.Extended)
			}
		}
		if left != nil {
			line += " · " + left(d)
		}
		dates = append(dates, line)
	}
	var answers strings.Builder
	for _, a := range comp.Answers {
		fmt.Fprintf(&answers, "*%s*\n%s\n", escape(a.Question), escape(a.Display))
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, truncate(comp.ID+" · "+issuer, 150), false, false)),
		slack.NewSectionBlock(nil, fields, nil),
	}
	if len(dates) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(md(truncate(strings.Join(dates, "\n"), sectionLimit)), nil, nil))
	}
	if answers.Len() > 0 {
		blocks = append(blocks, slack.NewSectionBlock(md(truncate(answers.String(), sectionLimit)), nil, nil))
	}
	button := func(id, label string, style slack.Style) *slack.ButtonBlockElement {
		b := slack.NewButtonBlockElement(id, comp.ID, slack.NewTextBlockObject(slack.PlainTextType, label, false, false))
		if style != "" {
			b = b.WithStyle(style)
		}
		return b
	}
	var buttons []slack.BlockElement
	switch comp.Status {
	case dialog.CaseDecided, dialog.CaseClosed:
		if comp.Status == dialog.CaseDecided {
			buttons = append(buttons, button(actionClose, "Close", ""))
		}
		buttons = append(buttons, button(actionReopen, "Reopen", ""))
	default:
		buttons = append(buttons,
			button(actionClaim, "Claim", slack.StylePrimary),
			button(actionHold, "Holding reply", ""),
			button(actionDecide, "Decide", ""),
			button(actionClose, "Close", slack.StyleDanger))
	}
	blocks = append(blocks, slack.NewActionBlock("ombud_actions", buttons...),
		slack.NewContextBlock("", md("Reply in this thread to answer the consumer. Start with `note:` or `//` to keep it internal.")))
	return blocks
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
