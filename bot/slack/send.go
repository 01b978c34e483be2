package slack

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"ombud/bot"
	"ombud/dialog"
)

// metadataType marks Ombud's messages, whose payload carries the outbox id,
// so a post whose answer was lost can be found instead of posted twice.
const metadataType = "ombud_outbox"

// Send posts one output for the agents: a new case opens its thread, the
// rest goes into the thread, and the thread's header is brought up to date.
func (c *Client) Send(ctx context.Context, out dialog.Output) error {
	if out.To != dialog.ToAgents {
		return fmt.Errorf("%w: slack carries the agents' desk only", bot.ErrUndeliverable)
	}
	if out.Notice == dialog.NoticeDelivered {
		return c.markDelivered(ctx, out.Receipt)
	}
	if out.Case == "" {
		channel := c.channelFor(out.Issuer)
		return c.post(ctx, channel, "", out.ID, escape(out.Text), nil)
	}
	channel, ts, err := c.thread(ctx, out)
	if err != nil {
		return err
	}
	switch out.Notice {
	case dialog.NoticeCaseOpened:
		return nil // the thread's root is the case, just written
	case dialog.NoticeRedraw:
		c.redraw(out.Case, channel, ts) // a new day, or a change: nothing to say
		return nil
	}
	if out.Attachment != nil && c.cfg.Files != nil {
		return c.upload(ctx, channel, ts, out)
	}
	if out.Notice == dialog.NoticeRedact {
		if err := c.redact(ctx, channel, ts, out.Case, c.deskFor(out.Issuer).Lang); err != nil {
			return err
		}
	}
	if err := c.post(ctx, channel, ts, out.ID, escape(out.Text), nil); err != nil {
		return err
	}
	c.redraw(out.Case, channel, ts)
	return nil
}

// thread finds the case's thread, or opens it with the header as its root.
func (c *Client) thread(ctx context.Context, out dialog.Output) (channel, ts string, err error) {
	if ref, ok, err := c.cfg.Refs.Ref(refThread, out.Case); err != nil {
		return "", "", err
	} else if ok {
		channel, ts, _ = strings.Cut(ref, " ")
		return channel, ts, nil
	}
	view, err := c.view(out.Case)
	if err != nil {
		return "", "", err
	}
	channel = c.channelFor(view.IssuerID)
	if channel == "" {
		return "", "", fmt.Errorf("%w: no Slack channel for issuer %s", bot.ErrUndeliverable, view.IssuerID)
	}
	// A root posted by an attempt whose answer was lost is found by its
	// outbox id, not posted again.
	ts, err = c.find(ctx, channel, "", out.ID)
	if err != nil {
		return "", "", err
	}
	if ts == "" {
		err = c.callIn(ctx, "chat.postMessage", channel, func() (err error) {
			_, ts, err = c.api.PostMessageContext(ctx, channel,
				slack.MsgOptionText(escape(c.headerText(view)), false),
				slack.MsgOptionBlocks(c.header(view)...),
				slack.MsgOptionMetadata(slack.SlackMetadata{EventType: metadataType, EventPayload: map[string]any{"outbox": out.ID, "case": view.ID}}))
			return err
		})
		if err != nil {
			return "", "", classify(err)
		}
	}
	if err := c.linkThread(out.Case, channel, ts); err != nil {
		return "", "", err
	}
	return channel, ts, nil
}

// linkThread records a case's thread, both ways, in one transaction.
func (c *Client) linkThread(caseID, channel, ts string) error {
	thread := channel + " " + ts
	return c.cfg.Refs.PutRefs(bot.Ref{Kind: refThread, Key: caseID, Value: thread}, bot.Ref{Kind: refCase, Key: thread, Value: caseID})
}

// post sends text to a channel or thread, tagged with its outbox id.
func (c *Client) post(ctx context.Context, channel, threadTS, id, text string, blocks []slack.Block) error {
	if ts, err := c.find(ctx, channel, threadTS, id); err != nil || ts != "" {
		return err // already there from an attempt whose answer was lost
	}
	opts := []slack.MsgOption{
		slack.MsgOptionText(text, false),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: metadataType, EventPayload: map[string]any{"outbox": id}}),
	}
	if threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(threadTS))
	}
	if len(blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(blocks...))
	}
	if err := c.callIn(ctx, "chat.postMessage", channel, func() error {
		_, _, err := c.api.PostMessageContext(ctx, channel, opts...)
		return err
	}); err != nil {
		return classify(err)
	}
	return nil
}

// find looks for a message Ombud already posted with outbox id id. It only
// asks Slack when an earlier attempt may have posted it: ids are recorded
// per process, so a fresh id is never searched.
func (c *Client) find(ctx context.Context, channel, threadTS, id string) (string, error) {
	if id == "" || !c.attempted(id) {
		return "", nil
	}
	var found string
	err := c.eachMessage(ctx, channel, threadTS, func(m slack.Message) bool {
		if m.Metadata.EventType == metadataType && fmt.Sprint(m.Metadata.EventPayload["outbox"]) == id {
			found = m.Timestamp
			return false
		}
		return true
	})
	return found, err
}

// eachMessage calls fn for each message of a thread (threadTS set) or of
// a channel's recent history, page after page by Slack's cursor, until fn
// returns false. History is read back at most maxHistoryPages pages: a
// post whose answer was lost is recent.
func (c *Client) eachMessage(ctx context.Context, channel, threadTS string, fn func(slack.Message) bool) error {
	cursor := ""
	for page := 0; ; page++ {
		var msgs []slack.Message
		var next string
		var err error
		if threadTS != "" {
			err = c.call(ctx, "conversations.replies", func() (err error) {
				msgs, _, next, err = c.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
					ChannelID: channel, Timestamp: threadTS, Limit: 200, Cursor: cursor, IncludeAllMetadata: true})
				return err
			})
		} else {
			err = c.call(ctx, "conversations.history", func() error {
				resp, err := c.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
					ChannelID: channel, Limit: 200, Cursor: cursor, IncludeAllMetadata: true})
				if err == nil {
					msgs, next = resp.Messages, resp.ResponseMetaData.NextCursor
				}
				return err
			})
		}
		if err != nil {
			return classify(err)
		}
		for _, m := range msgs {
			if !fn(m) {
				return nil
			}
		}
		if next == "" || (threadTS == "" && page+1 >= maxHistoryPages) {
			return nil
		}
		cursor = next
	}
}

// maxHistoryPages bounds how far back a channel's history is searched.
const maxHistoryPages = 5

// attempted records that a post with outbox id is being tried and reports
// whether it was tried before in this process. After a restart the first
// try is not searched: Slack has no idempotency key, and a crash between a
// post and its outbox mark stays at least once.
func (c *Client) attempted(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tries == nil {
		c.tries = map[string]bool{}
	}
	seen := c.tries[id]
	c.tries[id] = true
	if len(c.tries) > 10000 {
		c.tries = map[string]bool{id: true}
	}
	return seen
}

// updateHeader rewrites the thread's root so status and remaining days are
// always current.
func (c *Client) updateHeader(ctx context.Context, caseID, channel, ts string) error {
	view, err := c.view(caseID)
	if err != nil {
		return err
	}
	err = c.do("chat.update", func() error { // paced by redrawLater
		_, _, _, err := c.api.UpdateMessageContext(ctx, channel, ts,
			slack.MsgOptionText(escape(c.headerText(view)), false),
			slack.MsgOptionBlocks(c.header(view)...))
		return err
	})
	if err != nil {
		return classify(err)
	}
	return nil
}

// markDelivered puts a check mark on the agent's message once the consumer
// has it.
func (c *Client) markDelivered(ctx context.Context, receipt string) error {
	rest, ok := strings.CutPrefix(receipt, "slack:")
	if !ok {
		return nil // a reply from another desk
	}
	channel, ts, _ := strings.Cut(rest, ":")
	err := c.call(ctx, "reactions.add", func() error {
		return c.api.AddReactionContext(ctx, "white_check_mark", slack.ItemRef{Channel: channel, Timestamp: ts})
	})
	if !done(err) { // already marked, or the agent deleted the message: nothing to do
		return classify(err)
	}
	return nil
}

// view is the case as its desk shows it now.
func (c *Client) view(caseID string) (dialog.CaseView, error) {
	v, err := c.cfg.View(caseID)
	if errors.Is(err, bot.ErrNotFound) {
		return v, fmt.Errorf("%w: case %s is gone", bot.ErrUndeliverable, caseID)
	}
	return v, err
}

// classify maps Slack's answers to what the relay should do.
func classify(err error) error {
	var limited *slack.RateLimitedError
	if errors.As(err, &limited) {
		return &bot.RetryAfterError{Wait: max(limited.RetryAfter, time.Second), Err: err}
	}
	var status slack.StatusCodeError
	if errors.As(err, &status) && status.Code == 429 {
		return &bot.RetryAfterError{Wait: 30 * time.Second, Err: err}
	}
	// Slack's own refusals (ok: false) do not change by trying again,
	// except the few that mean Slack itself is in trouble: a refused call
	// is dropped with a warning, never retried in a loop.
	switch code := slackError(err); code {
	case "":
		return err // the network, or a 5xx: try again
	case "channel_not_found", "not_in_channel", "is_archived", "invalid_auth", "account_inactive", "token_revoked", "message_not_found":
		return fmt.Errorf("%w: %w", bot.ErrUndeliverable, err)
	case "ratelimited":
		return &bot.RetryAfterError{Wait: 30 * time.Second, Err: err}
	case "internal_error", "fatal_error", "service_unavailable", "request_timeout", "team_added_to_org":
		return err
	default:
		return fmt.Errorf("%w: %w", bot.ErrRejected, err)
	}
}

// slackError is the error code of Slack's ok:false answer in err, such as
// "channel_not_found"; "" if err is not one.
func slackError(err error) string {
	var refused slack.SlackErrorResponse
	if errors.As(err, &refused) {
		return refused.Err
	}
	return ""
}

// done reports whether a Slack error means the call's work is already
// done: a reaction already there or already gone, a message already
// deleted or a file already removed.
func done(err error) bool {
	if err == nil {
		return true
	}
	switch slackError(err) {
	case "already_reacted", "no_reaction", "message_not_found", "cant_update_message", "file_not_found", "file_deleted":
		return true
	}
	return false
}

// upload copies a consumer's file from their channel into the thread.
func (c *Client) upload(ctx context.Context, channel, ts string, out dialog.Output) error {
	a := out.Attachment
	body, size, err := c.cfg.Files(ctx, out.Channel, a.FileID)
	if err != nil {
		return err
	}
	defer body.Close()
	if size <= 0 {
		size = a.Size
	}
	if size <= 0 {
		// Slack takes no empty file: say what came instead of retrying an
		// upload that cannot succeed.
		return c.post(ctx, channel, ts, out.ID, escape(out.Text)+" "+c.words(c.deskFor(out.Issuer).Lang).Text("desk.empty_file", nil), nil)
	}
	name := a.Name
	if name == "" {
		name = a.FileID
	}
	var file *slack.FileSummary
	// The upload posts into the channel, so it keeps the channel's pace.
	err = c.callIn(ctx, "files.getUploadURLExternal", channel, func() (err error) {
		file, err = c.api.UploadFileContext(ctx, slack.UploadFileParameters{
			Reader: body, FileSize: int(size), Filename: name, Title: name,
			Channel: channel, ThreadTimestamp: ts, InitialComment: escape(out.Text),
		})
		return err
	})
	if err != nil {
		return classify(err)
	}
	// Remember the copy, so an erasure can delete it from Slack too.
	files, _, err := c.cfg.Refs.Ref(refFiles, out.Case)
	if err != nil {
		return err
	}
	return c.cfg.Refs.PutRef(refFiles, out.Case, strings.TrimSpace(files+" "+file.ID))
}

// redact rewrites every message Ombud posted in a case's thread, which may
// quote the consumer, to a neutral text. Agents' own replies are theirs to
// delete; the root is rewritten by the header update that follows.
func (c *Client) redact(ctx context.Context, channel, ts, caseID, lang string) error {
	redacted := c.words(lang).Text("desk.redacted", nil)
	var ours []string
	if err := c.eachMessage(ctx, channel, ts, func(m slack.Message) bool {
		if m.Timestamp != ts && m.Metadata.EventType == metadataType {
			ours = append(ours, m.Timestamp)
		}
		return true
	}); err != nil {
		return err
	}
	for _, msgTS := range ours {
		err := c.call(ctx, "chat.update", func() error {
			_, _, _, err := c.api.UpdateMessageContext(ctx, channel, msgTS, slack.MsgOptionText(redacted, false))
			return err
		})
		if !done(err) {
			return classify(err)
		}
	}
	return c.deleteFiles(ctx, caseID)
}

// deleteFiles removes the consumer's files Ombud copied into a case's
// thread.
func (c *Client) deleteFiles(ctx context.Context, caseID string) error {
	files, _, err := c.cfg.Refs.Ref(refFiles, caseID)
	if err != nil {
		return err
	}
	for _, id := range strings.Fields(files) {
		if err := c.call(ctx, "files.delete", func() error { return c.api.DeleteFileContext(ctx, id) }); !done(err) {
			return classify(err)
		}
	}
	return c.cfg.Refs.PutRef(refFiles, caseID, "")
}

// PostOps posts an operational message, such as a refused policy reload,
// to the operations channel. It is best effort and not queued: operators
// also have the log.
func (c *Client) PostOps(ctx context.Context, channel, text string) error {
	err := c.callIn(ctx, "chat.postMessage", channel, func() error {
		_, _, err := c.api.PostMessageContext(ctx, channel, slack.MsgOptionText(escape(text), false))
		return err
	})
	if err != nil {
		return classify(err)
	}
	return nil
}
