// Package console is Ombud in a terminal: the consumer's side of the chat,
// with buttons shown as numbered options, and a local agent desk driven by
// /agent commands. It reads standard input line by line, so a whole
// conversation can be piped in, and resumes where it stood when run again
// on the same data directory.
package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"ombud/bot"
	"ombud/dialog"
)

// Channel is the consumer channel name of the terminal.
const Channel = "console"

// Chat is one terminal conversation: one consumer, one local agent desk.
type Chat struct {
	Service *bot.Service
	In      io.Reader
	Out     io.Writer
	// ChatID names the conversation in the store, so several can share it.
	ChatID string
	// Issuer, if set, starts a new conversation with that issuer, as a
	// Telegram deep link does.
	Issuer string
	// Lang is the consumer's language code, as a platform would report it.
	Lang string
	// Agent is the agent's display name on the desk.
	Agent string
	// ExportDir is where files for the consumer, such as /mydata, are
	// written; the chat prints their path.
	ExportDir string
	// Echo prints each line read, for input that is not typed at a
	// terminal (a piped script), so the transcript reads as a
	// conversation.
	Echo bool
	// Width is where lines are wrapped, at spaces; 0 means 80.
	Width int

	mu      sync.Mutex
	buttons []dialog.Button // the options last shown, for numbered answers
	shown   bool            // buttons were shown since the last line read
}

// ConsumerSender prints consumer messages and remembers their buttons.
func (c *Chat) ConsumerSender() bot.Sender { return sendFunc(c.printConsumer) }

// AgentSender prints the agent desk's messages.
func (c *Chat) AgentSender() bot.Sender { return sendFunc(c.printAgents) }

type sendFunc func(context.Context, dialog.Output) error

func (f sendFunc) Send(ctx context.Context, out dialog.Output) error { return f(ctx, out) }

// Run talks until the input ends or ctx is cancelled. Inputs are durable
// before they are handled, so a killed process loses nothing.
func (c *Chat) Run(ctx context.Context) error {
	err := c.run(ctx)
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil // Ctrl-C mid-turn: what was typed is in the inbox, for the next start
	}
	return err
}

func (c *Chat) run(ctx context.Context) error {
	existing, err := c.session()
	if err != nil {
		return err
	}
	// Finish whatever a killed run left behind, then greet or resume.
	if err := c.step(ctx); err != nil {
		return err
	}
	if err := c.submit(ctx, c.firstInput(existing)); err != nil {
		return err
	}
	lines, readErr := c.readLines(ctx)
	for {
		var line string
		select {
		case <-ctx.Done():
			fmt.Fprintln(c.Out)
			return nil
		case err := <-readErr:
			if err != nil && !errors.Is(err, io.EOF) {
				return fmt.Errorf("console: read input: %w", err)
			}
			return nil
		case line = <-lines:
		}
		if err := c.take(ctx, strings.TrimRight(line, "\r")); err != nil {
			return err
		}
	}
}

// firstInput greets or resumes: an issuer named on the command line starts
// a complaint to it, as a link does, unless one to it is being written.
func (c *Chat) firstInput(existing *dialog.Session) dialog.Input {
	if existing == nil || existing.State == dialog.StateNew || (c.Issuer != "" && existing.Issuer != c.Issuer) ||
		(c.Issuer != "" && existing.State == dialog.StateSubmitted) {
		return dialog.Input{Kind: dialog.InputCommand, Command: dialog.CommandStart, Arg: c.Issuer}
	}
	return dialog.Input{Kind: dialog.InputResume}
}

// readLines reads the input a line at a time on its own goroutine: reading
// blocks until a line comes, and the chat must still end on Ctrl-C. The
// goroutine ends at the end of the input or when ctx ends.
func (c *Chat) readLines(ctx context.Context) (<-chan string, <-chan error) {
	lines := make(chan string)
	readErr := make(chan error, 1)
	go func() {
		scan := bufio.NewScanner(c.In)
		scan.Buffer(make([]byte, 64*1024), 1024*1024)
		for scan.Scan() {
			select {
			case lines <- scan.Text():
			case <-ctx.Done():
				return
			}
		}
		readErr <- scan.Err()
	}()
	return lines, readErr
}

// take handles one line the consumer (or the agent) typed.
func (c *Chat) take(ctx context.Context, line string) error {
	if c.Echo {
		c.mu.Lock()
		fmt.Fprintln(c.Out, "you>   "+c.wrap(line, "       "))
		c.mu.Unlock()
	}
	in, ok, err := c.parse(line)
	if err != nil {
		fmt.Fprintln(c.Out, "! "+err.Error())
		return nil
	}
	if !ok {
		return nil
	}
	return c.submit(ctx, in)
}

// submit makes one input durable, handles it, fires due timers and prints
// what the bot says.
func (c *Chat) submit(ctx context.Context, in dialog.Input) error {
	in.Channel, in.Chat, in.Lang = Channel, c.ChatID, c.Lang
	in.At = c.Service.Now()
	c.mu.Lock()
	c.shown = false
	c.mu.Unlock()
	if err := c.Service.Submit(in); err != nil {
		return err
	}
	if err := c.step(ctx); err != nil {
		return err
	}
	return c.forgetOldButtons()
}

// forgetOldButtons drops the numbered options once the dialog no longer
// takes them, so a number typed later is read as text, not as a press of
// a keyboard that has gone.
func (c *Chat) forgetOldButtons() error {
	s, err := c.session()
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.shown || len(c.buttons) == 0 {
		return nil
	}
	number, _, _ := strings.Cut(c.buttons[0].Data, "|")
	if s == nil || number != strconv.Itoa(s.Keyboard) {
		c.buttons = nil
	}
	return nil
}

func (c *Chat) step(ctx context.Context) error {
	if _, err := c.Service.ProcessInbox(ctx); err != nil {
		return err
	}
	if _, err := c.Service.FireTimers(ctx, c.Service.Now()); err != nil {
		return err
	}
	_, err := c.Service.Relay(ctx)
	return err
}

func (c *Chat) session() (*dialog.Session, error) {
	var s *dialog.Session
	err := c.Service.Store.View(func(tx bot.Tx) error {
		got, err := tx.Session(dialog.SessionKey(Channel, c.ChatID))
		if errors.Is(err, bot.ErrNotFound) {
			return nil
		}
		s = &got
		return err
	})
	return s, err
}

// parse turns a line into an input: a command, an agent action, a number
// or label naming a button, or a message.
func (c *Chat) parse(line string) (dialog.Input, bool, error) {
	trimmed := strings.TrimSpace(line)
	if trimmed == "" {
		return dialog.Input{Kind: dialog.InputMessage, Text: line}, true, nil
	}
	if rest, ok := strings.CutPrefix(trimmed, "/agent"); ok && (rest == "" || rest[0] == ' ') {
		return c.parseAgent(strings.TrimSpace(rest))
	}
	if rest, ok := strings.CutPrefix(trimmed, "/attach"); ok && (rest == "" || rest[0] == ' ') {
		name := strings.TrimSpace(rest)
		if name == "" {
			return dialog.Input{}, false, errors.New("usage: /attach FILE-NAME")
		}
		return dialog.Input{Kind: dialog.InputMessage, Attachment: &dialog.Attachment{FileID: "local:" + name, Name: name}}, true, nil
	}
	if strings.HasPrefix(trimmed, "/") {
		name, arg, _ := strings.Cut(trimmed[1:], " ")
		return dialog.Input{Kind: dialog.InputCommand, Command: strings.ToLower(name), Arg: strings.TrimSpace(arg)}, true, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if n, err := strconv.Atoi(trimmed); err == nil && n >= 1 && n <= len(c.buttons) {
		return dialog.Input{Kind: dialog.InputChoice, Data: c.buttons[n-1].Data}, true, nil
	}
	for _, b := range c.buttons {
		if strings.EqualFold(trimmed, b.Label) {
			return dialog.Input{Kind: dialog.InputChoice, Data: b.Data}, true, nil
		}
	}
	return dialog.Input{Kind: dialog.InputMessage, Text: line}, true, nil
}

// parseAgent reads "/agent ACTION [OUTCOME] [TEXT]" for the conversation's
// current case.
func (c *Chat) parseAgent(rest string) (dialog.Input, bool, error) {
	const usage = "usage: /agent view|reply|note|claim|extend|decide upheld|partial|rejected|close|reopen [TEXT]"
	word, text, _ := strings.Cut(rest, " ")
	if strings.EqualFold(word, "view") {
		return dialog.Input{}, false, c.printView()
	}
	action := dialog.Action(strings.ToLower(word))
	a := &dialog.AgentAction{Action: action, Agent: c.Agent, Text: strings.TrimSpace(text)}
	switch action {
	case dialog.ActionReply, dialog.ActionNote, dialog.ActionClaim, dialog.ActionExtend, dialog.ActionClose, dialog.ActionReopen:
	case dialog.ActionDecide:
		outcome, text, _ := strings.Cut(a.Text, " ")
		a.Outcome, a.Text = dialog.Outcome(strings.ToLower(outcome)), strings.TrimSpace(text)
	default:
		return dialog.Input{}, false, errors.New(usage)
	}
	s, err := c.session()
	if err != nil {
		return dialog.Input{}, false, err
	}
	if s == nil || s.Case == "" {
		return dialog.Input{}, false, errors.New("no case yet: the consumer has not filed a complaint")
	}
	return dialog.Input{Kind: dialog.InputAgent, Case: s.Case, Agent: a}, true, nil
}

// printView lays out the current case as the desk sees it.
func (c *Chat) printView() error {
	s, err := c.session()
	if err != nil {
		return err
	}
	if s == nil || s.Case == "" {
		return errors.New("no case yet: the consumer has not filed a complaint")
	}
	var comp dialog.Complaint
	if err := c.Service.Store.View(func(tx bot.Tx) error {
		comp, err = tx.Complaint(s.Case)
		return err
	}); err != nil {
		return err
	}
	v := c.Service.Engine.CaseView(comp, c.Service.Now())
	pr := c.Service.Engine.Catalog.Printer(v.Lang)
	c.mu.Lock()
	defer c.mu.Unlock()
	line := func(s string) { fmt.Fprintln(c.Out, "desk>  "+c.wrap(s, "       ")) }
	line(v.ID + " · " + v.Issuer)
	line(pr.Text("desk.field.status", nil) + ": " + v.StatusText)
	line(pr.Text("desk.field.received", nil) + ": " + v.Received.String() + " · " + pr.Text("desk.field.language", nil) + ": " + v.ConsumerLang)
	for _, d := range v.Deadlines {
		due := d.Due.String()
		switch {
		case d.ExtendedInForce:
			due = pr.Text("desk.extended_in_force", map[string]any{"Date": d.Extended.String()})
		case d.Extended != nil:
			due += " (" + pr.Text("desk.extended", map[string]any{"Date": d.Extended.String()}) + ")"
		}
		line("  " + d.Label + ": " + due + " · " + d.Left)
	}
	for _, a := range v.Answers {
		line("  " + a.Question + ": " + a.Answer)
	}
	var actions []string
	for _, a := range v.Actions {
		actions = append(actions, string(a))
	}
	line("/agent " + strings.Join(actions, "|"))
	return nil
}

func (c *Chat) printConsumer(_ context.Context, out dialog.Output) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintln(c.Out, "ombud> "+c.wrap(out.Text, "       "))
	if out.Notice == dialog.NoticeHelp {
		fmt.Fprintln(c.Out, "       "+c.wrap(c.Service.Engine.Catalog.Printer(c.lang()).Text("console.help", nil), "       "))
	}
	if out.Notice == dialog.NoticeErased {
		// The consumer's exports are their data too.
		old, _ := filepath.Glob(filepath.Join(c.ExportDir, c.ChatID+"-*"))
		for _, f := range old {
			os.Remove(f)
		}
	}
	if d := out.Document; d != nil {
		if err := os.MkdirAll(c.ExportDir, 0o700); err != nil {
			return fmt.Errorf("console: export: %w", err)
		}
		path := filepath.Join(c.ExportDir, fmt.Sprintf("%s-%s-%s", c.ChatID, out.ID, d.Name))
		if err := os.WriteFile(path, d.Data, 0o600); err != nil {
			return fmt.Errorf("console: export: %w", err)
		}
		fmt.Fprintln(c.Out, "       "+path)
	}
	var flat []dialog.Button
	for _, row := range out.Buttons {
		flat = append(flat, row...)
	}
	for i, b := range flat {
		fmt.Fprintf(c.Out, "       [%d] %s\n", i+1, b.Label)
	}
	if len(flat) > 0 {
		c.buttons, c.shown = flat, true
	}
	return nil
}

// lang is the conversation's language, for the terminal's own lines.
func (c *Chat) lang() string {
	var lang string
	_ = c.Service.Store.View(func(tx bot.Tx) error {
		s, err := tx.Session(dialog.SessionKey(Channel, c.ChatID))
		lang = s.Lang
		return err
	})
	return lang
}

func (c *Chat) printAgents(_ context.Context, out dialog.Output) error {
	if out.Notice == dialog.NoticeRedraw {
		return nil // the terminal desk has no header to redraw
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintln(c.Out, "desk>  "+c.wrap(out.Text, "       "))
	return nil
}

// wrap breaks text into lines that fit the terminal after prefix, at
// spaces, never inside a word; lines after the first start with prefix.
func (c *Chat) wrap(text, prefix string) string {
	width := c.Width
	if width <= 0 {
		width = 80
	}
	room := max(width-len(prefix), 20)
	var out []string
	for _, para := range strings.Split(text, "\n") {
		lead := para[:len(para)-len(strings.TrimLeft(para, " "))] // keeps a list's indent
		line := ""
		for _, word := range strings.Fields(para) {
			switch {
			case line == "":
				line = lead + word
			case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) > room:
				out = append(out, line)
				line = lead + word
			default:
				line += " " + word
			}
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n"+prefix)
}

// Clock returns a clock fixed at t, for rehearsals and tests (--now), or
// time.Now when t is zero.
func Clock(t time.Time) func() time.Time {
	if t.IsZero() {
		return time.Now
	}
	return func() time.Time { return t }
}
