package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// RunSocketMode receives events and interactions over Socket Mode, which
// needs no public URL, until ctx ends. Each envelope is acknowledged only
// after its input is stored; Slack redelivers anything unacknowledged.
func (c *Client) RunSocketMode(ctx context.Context, appToken string) error {
	api := slack.New(c.cfg.Token, slack.OptionAPIURL(c.cfg.APIURL), slack.OptionAppLevelToken(appToken))
	sm := socketmode.New(api, socketmode.OptionLog(slog.NewLogLogger(c.log.Handler(), slog.LevelDebug)))
	errs := make(chan error, 1)
	go func() { errs <- sm.RunContext(ctx) }()
	for {
		select {
		case <-ctx.Done():
			// Wait for the connection to close. Events it still hands
			// over are not acknowledged, so Slack sends them again.
			for {
				select {
				case <-errs:
					return nil
				case <-sm.Events:
				}
			}
		case err := <-errs:
			if ctx.Err() != nil || errors.Is(err, context.Canceled) {
				return nil
			}
			return fmt.Errorf("slack: socket mode: %w", err)
		case evt := <-sm.Events:
			c.socketEvent(ctx, sm, evt)
		}
	}
}

func (c *Client) socketEvent(ctx context.Context, sm *socketmode.Client, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeEventsAPI:
		ev, ok := evt.Data.(slackevents.EventsAPIEvent)
		if !ok || evt.Request == nil {
			return
		}
		if cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent); ok {
			if msg, ok := ev.InnerEvent.Data.(*slackevents.MessageEvent); ok {
				if err := c.agentMessage(ctx, cb.EventID, msg); err != nil {
					c.log.Error("slack event not stored; not acknowledged, so Slack redelivers", "err", err, "event", cb.EventID)
					return
				}
			}
		}
		sm.Ack(*evt.Request)
	case socketmode.EventTypeInteractive:
		ic, ok := evt.Data.(slack.InteractionCallback)
		if !ok || evt.Request == nil {
			return
		}
		resp, err := c.interaction(ctx, ic)
		if err != nil {
			c.log.Error("slack interaction not stored; not acknowledged", "err", err)
			return
		}
		if resp != nil {
			sm.Ack(*evt.Request, resp)
			return
		}
		sm.Ack(*evt.Request)
	case socketmode.EventTypeConnectionError, socketmode.EventTypeInvalidAuth:
		c.log.Warn("slack socket mode", "event", evt.Type, "detail", fmt.Sprint(evt.Data))
	}
}
