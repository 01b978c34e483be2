package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"ombud/dialog"
)

// maxRequestBytes bounds what Slack sends us; real requests are small.
const maxRequestBytes = 1 << 20

// verified reads a request's body and checks Slack's v0 signature and the
// five-minute window before anything is parsed. A failure has answered
// 401 and returns nil.
func (c *Client) verified(w http.ResponseWriter, r *http.Request) []byte {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		return nil
	}
	sv, err := slack.NewSecretsVerifier(r.Header, c.cfg.SigningSecret)
	if err == nil {
		_, _ = sv.Write(body)
		err = sv.Ensure()
	}
	if c.cfg.SigningSecret == "" || err != nil {
		c.log.Warn("slack request refused: bad signature", "err", err, "remote", r.RemoteAddr)
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return nil
	}
	return body
}

// EventsHandler serves /slack/events: the URL check, and thread replies
// from agents, stored before the 2xx. Slack retries an event it thinks we
// missed; the inbox drops it by event_id.
func (c *Client) EventsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := c.verified(w, r)
		if body == nil {
			return
		}
		ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
		if err != nil {
			http.Error(w, "malformed event", http.StatusBadRequest)
			return
		}
		switch ev.Type {
		case slackevents.URLVerification:
			var ch slackevents.ChallengeResponse
			if err := json.Unmarshal(body, &ch); err != nil {
				http.Error(w, "malformed challenge", http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, ch.Challenge)
			return
		case slackevents.CallbackEvent:
			cb, _ := ev.Data.(*slackevents.EventsAPICallbackEvent)
			if cb == nil {
				break
			}
			if msg, ok := ev.InnerEvent.Data.(*slackevents.MessageEvent); ok {
				if err := c.agentMessage(r.Context(), cb.EventID, msg); err != nil {
					c.log.Error("slack event not stored; Slack will retry", "err", err, "event", cb.EventID)
					http.Error(w, "try again", http.StatusServiceUnavailable)
					return
				}
			}
		}
		w.WriteHeader(http.StatusOK)
	})
}

// agentMessage turns an agent's reply in a case thread into an input.
// Messages from bots, Ombud's own included, edits, deletions and anything
// outside the desk's channels and case threads are ignored.
func (c *Client) agentMessage(ctx context.Context, eventID string, m *slackevents.MessageEvent) error {
	c.mu.Lock()
	self := c.botID
	c.mu.Unlock()
	// A reply with a file, or also sent to the channel, is still a reply;
	// edits, deletions and joins are not.
	relayed := m.SubType == "" || m.SubType == "file_share" || m.SubType == "thread_broadcast"
	if m.BotID != "" || !relayed || m.User == "" || (self != "" && m.User == self) {
		return nil
	}
	if m.ThreadTimeStamp == "" || m.ThreadTimeStamp == m.TimeStamp || !c.allowed(m.Channel) {
		return nil
	}
	caseID, ok, err := c.caseOfThread(ctx, m.Channel, m.ThreadTimeStamp)
	if err != nil || !ok {
		return err // an error is not acknowledged, so Slack delivers the reply again
	}
	in := dialog.Input{
		Key: "slack:" + eventID, Kind: dialog.InputAgent, Case: caseID, At: c.cfg.Now(),
		Ref:   "slack:" + m.Channel + ":" + m.TimeStamp,
		Agent: &dialog.AgentAction{Action: dialog.ActionReply, Agent: c.displayName(ctx, m.User), Text: c.plain(ctx, m.Text)},
	}
	return c.enqueue(in)
}

// caseOfThread finds the case whose thread a reply is in. The store knows
// it once the thread is linked; a reply can come sooner (an agent quick
// off the mark while the root's post is still being recorded, or a crash
// between the post and the record), so the root's own metadata, which
// names its case, is asked next, and the link is recorded then. It reports
// false for threads that are no case's.
func (c *Client) caseOfThread(ctx context.Context, channel, threadTS string) (string, bool, error) {
	thread := channel + " " + threadTS
	if caseID, ok, err := c.cfg.Refs.Ref(refCase, thread); err != nil || ok {
		return caseID, ok, err
	}
	c.mu.Lock()
	known := c.notCases[thread]
	c.mu.Unlock()
	if known {
		return "", false, nil
	}
	var msgs []slack.Message
	err := c.call(ctx, "conversations.replies", func() (err error) {
		msgs, _, _, err = c.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
			ChannelID: channel, Timestamp: threadTS, Limit: 1, IncludeAllMetadata: true})
		return err
	})
	if err != nil {
		return "", false, fmt.Errorf("slack: find the case of thread %s: %w", thread, classify(err))
	}
	for _, m := range msgs {
		if m.Timestamp != threadTS {
			continue
		}
		caseID, _ := m.Metadata.EventPayload["case"].(string)
		if m.Metadata.EventType == metadataType && caseID != "" {
			if err := c.linkThread(caseID, channel, threadTS); err != nil {
				return "", false, err
			}
			return caseID, true, nil
		}
	}
	c.mu.Lock()
	if len(c.notCases) > 10000 {
		c.notCases = nil
	}
	if c.notCases == nil {
		c.notCases = map[string]bool{}
	}
	c.notCases[thread] = true
	c.mu.Unlock()
	return "", false, nil
}

func (c *Client) enqueue(in dialog.Input) error {
	if _, err := c.cfg.Inbox.Enqueue(nil, in); err != nil {
		return err
	}
	c.cfg.Wake()
	return nil
}

// InteractionsHandler serves /slack/interactions: the header's buttons and
// the holding-reply and decision forms.
func (c *Client) InteractionsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := c.verified(w, r)
		if body == nil {
			return
		}
		// slack-go parses the form itself; give it the verified bytes.
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		ic, err := slack.InteractionCallbackParse(r)
		if err != nil {
			http.Error(w, "malformed interaction", http.StatusBadRequest)
			return
		}
		resp, err := c.interaction(r.Context(), ic)
		if err != nil {
			c.log.Error("slack interaction not stored", "err", err)
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		if resp != nil {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(resp)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// interaction handles a button or a form. It returns a response body for
// forms that need one (errors to show), else nil.
func (c *Client) interaction(ctx context.Context, ic slack.InteractionCallback) (any, error) {
	agent := ic.User.Name
	if agent == "" {
		agent = c.displayName(ctx, ic.User.ID)
	}
	switch ic.Type {
	case slack.InteractionTypeBlockActions:
		if len(ic.ActionCallback.BlockActions) == 0 {
			return nil, nil
		}
		channel := ic.Channel.ID
		if channel == "" {
			channel = ic.Container.ChannelID
		}
		if !c.allowed(channel) {
			c.log.Warn("slack action from outside the desk's channels ignored", "channel", channel, "user", ic.User.ID)
			return nil, nil
		}
		a := ic.ActionCallback.BlockActions[0]
		caseID := a.Value
		key := "slack:action:" + ic.User.ID + ":" + a.ActionTs
		switch a.ActionID {
		case actionClaim:
			return nil, c.act(key, caseID, dialog.ActionClaim, agent, "", "")
		case actionClose:
			return nil, c.act(key, caseID, dialog.ActionClose, agent, "", "")
		case actionReopen:
			return nil, c.act(key, caseID, dialog.ActionReopen, agent, "", "")
		case actionHold, actionDecide:
			return nil, c.openForm(ctx, ic.TriggerID, a.ActionID, caseID, c.langOfChannel(channel))
		}
	case slack.InteractionTypeViewSubmission:
		caseID := ic.View.PrivateMetadata
		values := map[string]string{}
		if ic.View.State != nil {
			for _, block := range ic.View.State.Values {
				for id, v := range block {
					values[id] = v.Value
					if v.SelectedOption.Value != "" {
						values[id] = v.SelectedOption.Value
					}
				}
			}
		}
		text := strings.TrimSpace(values["text"])
		if text == "" {
			lang := ""
			if v, err := c.view(caseID); err == nil {
				lang = v.Lang
			}
			return map[string]any{"response_action": "errors", "errors": map[string]string{"text_block": c.words(lang).Text("desk.form.text_required", nil)}}, nil
		}
		key := "slack:view:" + ic.View.ID
		switch ic.View.CallbackID {
		case viewHold:
			return nil, c.act(key, caseID, dialog.ActionExtend, agent, "", text)
		case viewDecide:
			return nil, c.act(key, caseID, dialog.ActionDecide, agent, dialog.Outcome(values["outcome"]), text)
		}
	}
	return nil, nil
}

func (c *Client) act(key, caseID string, action dialog.Action, agent string, outcome dialog.Outcome, text string) error {
	if caseID == "" {
		return errors.New("slack: action without a case")
	}
	return c.enqueue(dialog.Input{
		Key: key, Kind: dialog.InputAgent, Case: caseID, At: c.cfg.Now(),
		Agent: &dialog.AgentAction{Action: action, Agent: agent, Outcome: outcome, Text: text},
	})
}

// openForm asks for the holding reply's reason, or the decision and its
// text, in a modal worded in the desk's language.
func (c *Client) openForm(ctx context.Context, triggerID, action, caseID, lang string) error {
	pr := c.words(lang)
	plain := func(key string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, truncate(pr.Text(key, nil), 150), false, false)
	}
	title := func(key string) *slack.TextBlockObject { // Slack allows 24 characters
		return slack.NewTextBlockObject(slack.PlainTextType, truncate(pr.Text(key, nil), 24), false, false)
	}
	textInput := slack.NewPlainTextInputBlockElement(plain("desk.form.text_placeholder"), "text")
	textInput.Multiline = true
	view := slack.ModalViewRequest{
		Type: slack.VTModal, PrivateMetadata: caseID,
		Close: title("desk.form.cancel"), Submit: title("desk.form.send"),
	}
	switch action {
	case actionHold:
		view.CallbackID, view.Title = viewHold, title("desk.form.hold_title")
		view.Blocks = slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(plain("desk.form.hold_explain"), nil, nil),
			slack.NewInputBlock("text_block", plain("desk.form.reason"), nil, textInput),
		}}
	default:
		view.CallbackID, view.Title = viewDecide, title("desk.form.decide_title")
		option := func(v dialog.Outcome) *slack.OptionBlockObject {
			return slack.NewOptionBlockObject(string(v), plain("desk.outcome."+string(v)), nil)
		}
		outcome := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("desk.form.outcome"), "outcome",
			option(dialog.OutcomeUpheld), option(dialog.OutcomePartial), option(dialog.OutcomeRejected))
		view.Blocks = slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock("outcome_block", plain("desk.form.outcome"), nil, outcome),
			slack.NewInputBlock("text_block", plain("desk.form.decision_text"), nil, textInput),
			slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, pr.Text("desk.form.decision_explain", nil), false, false)),
		}}
	}
	if err := c.call(ctx, "views.open", func() error { _, err := c.api.OpenViewContext(ctx, triggerID, view); return err }); err != nil {
		c.log.Warn("slack views.open", "err", err)
		return nil // the trigger has expired; the agent presses again
	}
	return nil
}
