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
func (c *Client) headerText(v dialog.CaseView) string {
	return c.words(v.Lang).Text("desk.fallback", map[string]any{"Case": v.ID, "Issuer": v.Issuer, "Status": v.StatusText})
}

// actionButtons are the header's buttons, by the action each starts.
var actionButtons = map[dialog.Action]struct {
	id    string
	style slack.Style
}{
	dialog.ActionClaim:  {actionClaim, slack.StylePrimary},
	dialog.ActionExtend: {actionHold, ""},
	dialog.ActionDecide: {actionDecide, ""},
	dialog.ActionClose:  {actionClose, slack.StyleDanger},
	dialog.ActionReopen: {actionReopen, ""},
}

// header lays out the case view as the thread's root: who, status, the
// dates that bind the issuer with the time left, the answers, and a
// button for each action the case allows now.
func (c *Client) header(v dialog.CaseView) []slack.Block {
	pr := c.words(v.Lang)
	md := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
	}
	field := func(key, value string) *slack.TextBlockObject {
		return md("*" + pr.Text(key, nil) + "*\n" + escape(value))
	}
	fields := []*slack.TextBlockObject{
		field("desk.field.status", v.StatusText),
		field("desk.field.received", v.Received.String()),
		field("desk.field.language", v.ConsumerLang),
		field("desk.field.policy_version", v.PolicyVersion),
	}
	var dates []string
	for _, d := range v.Deadlines {
		line := fmt.Sprintf("*%s*: %s", escape(d.Label), d.Due)
		switch {
		case d.ExtendedInForce:
			line = fmt.Sprintf("*%s*: ~%s~ %s", escape(d.Label), d.Due, pr.Text("desk.extended_in_force", map[string]any{"Date": d.Extended.String()}))
		case d.Extended != nil:
			line += " (" + pr.Text("desk.extended", map[string]any{"Date": d.Extended.String()}) + ")"
		}
		left := escape(d.Left)
		if d.Missed {
			left = ":warning: *" + left + "*"
		}
		dates = append(dates, line+" · "+left)
	}
	var answers strings.Builder
	for _, a := range v.Answers {
		fmt.Fprintf(&answers, "*%s*\n%s\n", escape(a.Question), escape(a.Answer))
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, truncate(v.ID+" · "+v.Issuer, 150), false, false)),
		slack.NewSectionBlock(nil, fields, nil),
	}
	if len(dates) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(md(truncate(strings.Join(dates, "\n"), sectionLimit)), nil, nil))
	}
	if answers.Len() > 0 {
		blocks = append(blocks, slack.NewSectionBlock(md(truncate(answers.String(), sectionLimit)), nil, nil))
	}
	var buttons []slack.BlockElement
	for _, a := range v.Actions {
		spec, ok := actionButtons[a]
		if !ok {
			continue
		}
		b := slack.NewButtonBlockElement(spec.id, v.ID, slack.NewTextBlockObject(slack.PlainTextType, pr.Text("desk.action."+string(a), nil), false, false))
		if spec.style != "" {
			b = b.WithStyle(spec.style)
		}
		buttons = append(buttons, b)
	}
	if len(buttons) > 0 {
		blocks = append(blocks, slack.NewActionBlock("ombud_actions", buttons...))
	}
	return append(blocks, slack.NewContextBlock("", md(pr.Text("desk.hint", nil))))
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
