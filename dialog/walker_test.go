package dialog

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"ombud/policies"
)

// The walker searches for the paths nobody tried: seeded random
// conversations over every bundled policy and language, mixing good and
// bad answers, old and forged buttons, commands, edits, files, agents'
// actions, timers and restarts, with the dialog's promises checked after
// every turn. go test runs -walk.n conversations from -walk.seed; a longer
// search is
//
//	go test ./dialog -run TestWalker -walk.n=200000
//
// or go test ./dialog -fuzz FuzzWalker. A failure names its seed, and
// -walk.seed=S -walk.n=1 -v replays it with the transcript.
var (
	walkN    = flag.Int("walk.n", 0, "conversations the walker runs (default 400, or 80 under the race detector)")
	walkSeed = flag.Uint64("walk.seed", 1, "seed of the walker's first conversation")
)

func TestWalker(t *testing.T) {
	e := newEngine(t)
	edited := editedPolicies(t)
	n := *walkN
	if n == 0 {
		n = 400
		if raceDetector {
			n = 80
		}
	}
	var total walkStats
	started := time.Now()
	for i := 0; i < n; i++ {
		seed := *walkSeed + uint64(i)
		w := newWalker(e, edited, seed)
		if err := w.walk(); err != nil {
			t.Fatalf("seed %d, turn %d: %v\ntranscript (replay with -walk.seed=%d -walk.n=1):\n%s",
				seed, w.stats.turns, err, seed, w.transcript())
		}
		total.add(w.stats)
	}
	t.Logf("%d conversations, %d turns in %s: %d cases filed, %d old buttons refused, %d agent actions, %d timers, %d restarts, %d policy reloads, %d erasures",
		n, total.turns, time.Since(started).Round(time.Millisecond), total.filed, total.oldButtons, total.agent, total.timers, total.restarts, total.reloads, total.erasures)
	if n >= 80 && (total.filed == 0 || total.oldButtons == 0 || total.agent == 0 || total.timers == 0 || total.erasures == 0) {
		t.Errorf("the walker never reached some paths: %+v", total)
	}
}

func FuzzWalker(f *testing.F) {
	e := newEngine(f)
	edited := editedPolicies(f)
	f.Add(uint64(1))
	f.Add(uint64(424242))
	f.Fuzz(func(t *testing.T, seed uint64) {
		w := newWalker(e, edited, seed)
		if err := w.walk(); err != nil {
			t.Fatalf("seed %d, turn %d: %v\n%s", seed, w.stats.turns, err, w.transcript())
		}
	})
}

// editedPolicies is the bundled set as a policy owner might change it under
// running conversations: American Express Sweden asks one question less
// and Billender one more, and Klarna Denmark is gone.
func editedPolicies(t testing.TB) *policies.Set {
	t.Helper()
	files, err := policies.ReadFiles(policies.Bundled(), policies.BundledDir)
	if err != nil {
		t.Fatal(err)
	}
	var kept []policies.File
	for _, f := range files {
		text := string(f.Data)
		switch {
		case strings.HasSuffix(f.Name, "klarna-dk.yaml"):
			continue
		case strings.HasSuffix(f.Name, "amex-se.yaml"):
			start := strings.Index(text, "  - id: case_number\n")
			end := strings.Index(text, "  - id: description\n")
			text = text[:start] + text[end:]
		case strings.HasSuffix(f.Name, "billender.yaml"):
			text = strings.Replace(text, "fields:\n", `fields:
  - id: customer_number
    type: text
    required: true
    prompt: {sv: "Vilket kundnummer har du?", en: "What is your customer number?"}
    help: {sv: "Det står på avin.", en: "It is on the invoice."}
`, 1)
		}
		kept = append(kept, policies.File{Name: f.Name, Data: []byte(text)})
	}
	set, problems := policies.Check(kept)
	if set == nil {
		t.Fatalf("edited policies: %v", problems)
	}
	return set
}

type walkStats struct {
	turns, filed, oldButtons, agent, timers, restarts, erasures, reloads int
}

func (s *walkStats) add(o walkStats) {
	s.turns += o.turns
	s.filed += o.filed
	s.oldButtons += o.oldButtons
	s.agent += o.agent
	s.timers += o.timers
	s.restarts += o.restarts
	s.erasures += o.erasures
	s.reloads += o.reloads
}

// walker is one consumer's conversation and the store around it, kept as
// the bot keeps it.
type walker struct {
	e *Engine
	// sets are the policy sets the walker switches between, as a server
	// reloads an edited folder; set is the one in force.
	sets  [2]*policies.Set
	set   int
	rng   *rand.Rand
	now   time.Time
	lang  string // the platform's language code
	s     Session
	cases map[string]*Complaint
	// timers of each case, as the store's index holds them.
	timers map[string][]Timer
	seq    map[string]int
	// keyboards are the consumer-facing button data shown, oldest first;
	// live is the last keyboard shown by a consumer's turn.
	keyboards []string
	live      []Button
	rating    []string // rating buttons shown
	refs      []string // ids of the consumer's messages, for edits
	log       []string
	stats     walkStats
}

var walkLangs = []string{"sv", "sv-SE", "da", "da-DK", "en", "en-GB", "nb", "de", ""}

func newWalker(e *Engine, edited *policies.Set, seed uint64) *walker {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	own := *e
	w := &walker{
		e: &own, rng: rng, sets: [2]*policies.Set{e.Policies(), edited},
		now:    time.Date(2026, time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), 0, 0, time.UTC),
		lang:   walkLangs[rng.IntN(len(walkLangs))],
		s:      Session{Channel: "walk", Chat: "c1"},
		cases:  map[string]*Complaint{},
		timers: map[string][]Timer{},
		seq:    map[string]int{},
	}
	own.Policies = func() *policies.Set { return w.sets[w.set] }
	return w
}

func (w *walker) transcript() string {
	from := max(0, len(w.log)-60)
	return strings.Join(w.log[from:], "\n")
}

func (w *walker) logf(format string, args ...any) {
	w.log = append(w.log, fmt.Sprintf(format, args...))
}

// walk runs one conversation.
func (w *walker) walk() error {
	turns := 20 + w.rng.IntN(140)
	if err := w.turn(Input{Kind: InputCommand, Command: CommandStart, Arg: w.pick(w.issuerIDs(), "")}); err != nil {
		return err
	}
	for i := 0; i < turns; i++ {
		w.now = w.now.Add(time.Duration(w.rng.IntN(600)) * time.Second)
		if w.rng.IntN(40) == 0 {
			w.now = w.now.Add(time.Duration(w.rng.IntN(30*24)) * time.Hour)
		}
		if err := w.step(); err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) issuerIDs() []string {
	var ids []string
	for _, p := range w.e.Policies().All() {
		ids = append(ids, p.ID)
	}
	return ids
}

// pick returns one of options, or other now and then.
func (w *walker) pick(options []string, other string) string {
	if len(options) == 0 || w.rng.IntN(5) == 0 {
		return other
	}
	return options[w.rng.IntN(len(options))]
}

// step takes one action, chosen at random with weights that keep most
// conversations moving.
func (w *walker) step() error {
	switch r := w.rng.IntN(100); {
	case r < 45:
		return w.turn(w.goodInput())
	case r < 53:
		return w.turn(Input{Kind: InputMessage, Text: w.junk()})
	case r < 60:
		if len(w.live) > 0 {
			b := w.live[w.rng.IntN(len(w.live))]
			return w.turn(Input{Kind: InputChoice, Data: b.Data})
		}
		return w.turn(w.goodInput())
	case r < 64:
		if len(w.keyboards) > 0 {
			return w.turn(Input{Kind: InputChoice, Data: w.keyboards[w.rng.IntN(len(w.keyboards))]})
		}
	case r < 66:
		return w.turn(Input{Kind: InputChoice, Data: w.forged()})
	case r < 76:
		return w.turn(w.command())
	case r < 78:
		if len(w.refs) > 0 {
			return w.turn(Input{Kind: InputMessage, Edited: true, Ref: w.refs[w.rng.IntN(len(w.refs))], Text: w.answerText()})
		}
	case r < 79 && w.rng.IntN(4) == 0:
		return w.turn(Input{Kind: InputMessage, Unsupported: w.pick([]string{"sticker", "location", "contact"}, "poll")})
	case r < 81:
		size := int64(1 + w.rng.IntN(1<<20))
		if w.rng.IntN(6) == 0 {
			size = MaxAttachmentBytes + 1
		}
		return w.turn(Input{Kind: InputMessage, Text: w.pick([]string{"", "here", "kvitto"}, ""),
			Attachment: &Attachment{FileID: fmt.Sprintf("f%d", w.rng.IntN(1000)), Name: w.pick([]string{"statement.pdf", "photo.jpg", "kvittering.png"}, ""), Size: size}})
	case r < 90:
		return w.agentTurn()
	case r < 95:
		return w.fireTimer()
	case r < 97:
		if w.rng.IntN(4) == 0 {
			w.set = 1 - w.set
			w.stats.reloads++
			w.logf("-- policies reloaded: set %d", w.set)
		}
		return w.restart()
	default:
		if len(w.rating) > 0 {
			return w.turn(Input{Kind: InputChoice, Data: w.rating[w.rng.IntN(len(w.rating))]})
		}
	}
	return w.turn(w.goodInput())
}

var junkTexts = []string{
	"", " ", "\n\n", "😀😀", "\x00\x07\x1b[31m", "🤬!!", "31/02/2026", "2099-01-01", "3", "1", "0", "-5",
	"ja", "nej", "no", "yes", "/", "//", "@", "a", strings.Repeat("x", 5000), "<b>bold</b>", "{{.Case}}",
	"4111 1111 1111 1111", "1.000.000.000.000 kr", "fees", "terms", "today", "idag",
}

func (w *walker) junk() string { return junkTexts[w.rng.IntN(len(junkTexts))] }

func (w *walker) forged() string {
	forged := []string{"", "|", "0|go", "1|go", "99|submit", "submit", "go", "lang:xx", "issuer:nobody",
		"rate:", "rate:X:3", "case:nobody", "erase:yes", "discard:yes", "edit:nothing", "choice:fees"}
	d := forged[w.rng.IntN(len(forged))]
	if w.rng.IntN(3) == 0 {
		return fmt.Sprintf("%d|%s", w.s.Keyboard, strings.TrimPrefix(d, "1|"))
	}
	return d
}

func (w *walker) command() Input {
	cmds := []string{CommandStart, CommandNew, CommandStatus, CommandLanguage, CommandCancel, CommandBack,
		CommandHelp, CommandMyData, CommandDelete, "frobnicate"}
	name := cmds[w.rng.IntN(len(cmds))]
	arg := ""
	switch name {
	case CommandStart, CommandNew:
		arg = w.pick(w.issuerIDs(), "")
		if w.rng.IntN(2) == 0 {
			arg = ""
		}
	case CommandLanguage:
		arg = w.pick([]string{"sv", "da", "en", "SV", "xx"}, "")
	}
	if name == CommandDelete && w.rng.IntN(3) != 0 {
		name = CommandStatus // erasure ends the walk's story: not too often
	}
	return Input{Kind: InputCommand, Command: name, Arg: arg}
}

// liveButton returns the data of the live button with value, if shown.
func (w *walker) liveButton(value string) (string, bool) {
	for _, b := range w.live {
		if _, v, _ := strings.Cut(b.Data, keyboardMark); v == value {
			return b.Data, true
		}
	}
	return "", false
}

// pressValue presses the live button whose value starts with prefix, at
// random among those that do; a message if none does.
func (w *walker) pressValue(prefix string) Input {
	var match []string
	for _, b := range w.live {
		if _, v, _ := strings.Cut(b.Data, keyboardMark); strings.HasPrefix(v, prefix) {
			match = append(match, b.Data)
		}
	}
	if len(match) == 0 {
		return Input{Kind: InputMessage, Text: w.answerText()}
	}
	return Input{Kind: InputChoice, Data: match[w.rng.IntN(len(match))]}
}

// goodInput is what a consumer who means to go on would do now.
func (w *walker) goodInput() Input {
	if w.s.Confirm != "" {
		if w.rng.IntN(2) == 0 {
			return w.pressValue(strings.SplitN(w.s.Confirm, ":", 2)[0] + ":yes")
		}
		return w.pressValue(strings.SplitN(w.s.Confirm, ":", 2)[0] + ":no")
	}
	switch w.s.State {
	case "", StateNew, StateCancelled, StateParked:
		if w.rng.IntN(2) == 0 {
			return Input{Kind: InputCommand, Command: CommandNew, Arg: w.pick(w.issuerIDs(), "")}
		}
		return Input{Kind: InputMessage, Text: "hej"}
	case StatePrivacy:
		if w.rng.IntN(6) == 0 {
			return w.pressValue(prefixLang)
		}
		return w.pressValue(dataContinue)
	case StateIssuer:
		if w.rng.IntN(5) == 0 {
			return Input{Kind: InputMessage, Text: w.pick(w.issuerIDs(), "2")}
		}
		return w.pressValue(prefixIssuer)
	case StateContacted:
		return w.pressValue(w.pick([]string{dataYes, dataNo}, dataYes))
	case StateFirstStep:
		return w.pressValue(w.pick([]string{dataFile, dataFile, dataFile, dataLater}, dataFile))
	case StateFirstComplaint:
		if w.rng.IntN(2) == 0 {
			return w.pressValue(dataToday)
		}
		return Input{Kind: InputMessage, Text: w.now.AddDate(0, 0, -w.rng.IntN(500)).Format("2006-01-02")}
	case StatePriorAnswer:
		return w.pressValue(prefixPrior)
	case StateField, StateEditing:
		return w.fieldAnswer()
	case StateReview:
		switch w.rng.IntN(8) {
		case 0, 1:
			return w.pressValue(prefixEdit)
		case 2:
			return w.pressValue(dataCancel)
		}
		return w.pressValue(dataSubmit)
	case StateSubmitted:
		if len(w.rating) > 0 && w.rng.IntN(3) == 0 {
			return Input{Kind: InputChoice, Data: w.rating[w.rng.IntN(len(w.rating))]}
		}
		if w.rng.IntN(4) == 0 {
			return w.pressValue(prefixCase)
		}
		return Input{Kind: InputMessage, Text: w.answerText()}
	}
	return Input{Kind: InputMessage, Text: "hej"}
}

func (w *walker) policy() *policies.Policy {
	p, _ := w.e.Policies().Get(w.s.Issuer)
	return p
}

// fieldAnswer is a valid answer to the field asked.
func (w *walker) fieldAnswer() Input {
	pol := w.policy()
	if pol == nil {
		return Input{Kind: InputMessage, Text: w.answerText()}
	}
	f, ok := pol.Field(w.s.Field)
	if !ok {
		return Input{Kind: InputMessage, Text: w.answerText()}
	}
	if !f.Required && w.rng.IntN(4) == 0 {
		return w.pressValue(dataSkip)
	}
	switch f.Type {
	case policies.FieldChoice:
		if w.rng.IntN(4) == 0 {
			return Input{Kind: InputMessage, Text: fmt.Sprint(1 + w.rng.IntN(len(f.Choices)))}
		}
		return w.pressValue(prefixChoice)
	case policies.FieldYesNo:
		return w.pressValue(w.pick([]string{dataYes, dataNo}, dataYes))
	case policies.FieldAttachments:
		if w.rng.IntN(2) == 0 {
			return Input{Kind: InputMessage, Attachment: &Attachment{FileID: fmt.Sprintf("f%d", w.rng.IntN(1000)), Name: "receipt.pdf", Size: 2000}}
		}
		return w.pressValue(dataDone)
	case policies.FieldDate:
		return Input{Kind: InputMessage, Text: w.now.AddDate(0, 0, -w.rng.IntN(300)).Format("02.01.2006")}
	case policies.FieldEmail:
		return Input{Kind: InputMessage, Text: "kund@example.dk"}
	case policies.FieldPhone:
		return Input{Kind: InputMessage, Text: "+45 12 34 56 78"}
	case policies.FieldAmount:
		return Input{Kind: InputMessage, Text: w.pick([]string{"1 250 kr", "€30", "2.500,50 DKK", "700"}, "99 SEK")}
	case policies.FieldReference:
		return Input{Kind: InputMessage, Text: "AB-12345"}
	}
	return Input{Kind: InputMessage, Text: w.answerText()}
}

func (w *walker) answerText() string {
	return w.pick([]string{
		"Jag blev debiterad två gånger för samma köb i november.",
		"Kortet 3782 822463 10005 blev trukket to gange, og ingen har rettet det.",
		"I was charged twice and customer service never answered my e-mails.",
		"Anna Andersson",
		"Mette Hansen",
	}, "Ærlig talt: det här är för dåligt, öäå.")
}

// agentTurn is an agent acting on one of the consumer's cases.
func (w *walker) agentTurn() error {
	ids := mapsKeys(w.cases)
	slices.Sort(ids)
	if len(ids) == 0 {
		return w.turn(w.goodInput())
	}
	actions := []Action{ActionClaim, ActionReply, ActionReply, ActionNote, ActionExtend, ActionDecide, ActionDecide, ActionClose, ActionReopen, "frobnicate"}
	a := &AgentAction{Action: actions[w.rng.IntN(len(actions))], Agent: w.pick([]string{"Eva", "Lars"}, ""),
		Text: w.pick([]string{"Vi har fått ditt klagomål.", "Vi beklager.", "note: internal", "// intern", "Card 4111 1111 1111 1111 checked."}, "")}
	if a.Action == ActionDecide {
		a.Outcome = Outcome(w.pick([]string{string(OutcomeUpheld), string(OutcomePartial), string(OutcomeRejected)}, "maybe"))
	}
	w.stats.agent++
	return w.turn(Input{Kind: InputAgent, Case: ids[w.rng.IntN(len(ids))], Agent: a})
}

// fireTimer moves the clock to the earliest timer and fires it.
func (w *walker) fireTimer() error {
	var next *Timer
	for _, ts := range w.timers {
		for i := range ts {
			if next == nil || ts[i].At.Before(next.At) {
				next = &ts[i]
			}
		}
	}
	if next == nil {
		return w.turn(w.goodInput())
	}
	tm := *next
	if tm.At.After(w.now) {
		w.now = tm.At
	}
	list := w.timers[tm.Case]
	for i := range list {
		if list[i] == tm {
			w.timers[tm.Case] = slices.Delete(list, i, i+1)
			break
		}
	}
	w.stats.timers++
	return w.turn(Input{Kind: InputTimer, Case: tm.Case, Timer: &tm})
}

// restart reloads everything from its stored form, as after a crash.
func (w *walker) restart() error {
	w.stats.restarts++
	w.logf("-- restart")
	var s Session
	if err := roundTrip(w.s, &s); err != nil {
		return err
	}
	w.s = s
	for id, c := range w.cases {
		var back Complaint
		if err := roundTrip(c, &back); err != nil {
			return err
		}
		w.cases[id] = &back
	}
	return w.turn(Input{Kind: InputResume})
}

func roundTrip(v, into any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if err := json.Unmarshal(b, into); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	return nil
}

func mapsKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func (w *walker) describe(in Input) string {
	switch in.Kind {
	case InputCommand:
		return "/" + in.Command + " " + in.Arg
	case InputChoice:
		return "press " + in.Data
	case InputAgent:
		return fmt.Sprintf("agent %s %s on %s: %q", in.Agent.Action, in.Agent.Outcome, in.Case, in.Agent.Text)
	case InputTimer:
		return fmt.Sprintf("timer %s %s on %s", in.Timer.Kind, in.Timer.Deadline, in.Case)
	case InputResume:
		return "resume"
	}
	s := fmt.Sprintf("say %q", shorten(in.Text, 60))
	if in.Attachment != nil {
		s += fmt.Sprintf(" + file %s (%d B)", in.Attachment.Name, in.Attachment.Size)
	}
	if in.Edited {
		s += " (edit of " + in.Ref + ")"
	}
	return s
}

// turn runs one input as the bot does and checks every promise after it.
func (w *walker) turn(in Input) (err error) {
	w.stats.turns++
	in.At, in.Lang = w.now, w.lang
	if in.Kind != InputAgent && in.Kind != InputTimer {
		in.Channel, in.Chat = w.s.Channel, w.s.Chat
		if in.Kind == InputMessage && !in.Edited {
			in.Ref = fmt.Sprintf("m%d", w.stats.turns)
			w.refs = append(w.refs, in.Ref)
		}
	}
	w.logf("[%s %s/%s kb%d %s] %s", w.now.Format("2006-01-02 15:04"), w.s.State, w.s.Field, w.s.Keyboard, w.s.Confirm, w.describe(in))

	// The bot loads the case an agent or timer names, else the one the
	// conversation follows; an erased case has no conversation.
	var c *Complaint
	sess, hasSession := w.s, true
	if in.Kind == InputAgent || in.Kind == InputTimer {
		c = w.cases[in.Case]
		if c != nil && c.Channel == "" {
			sess, hasSession = Session{}, false
		}
	} else {
		c = w.cases[w.s.Case]
	}
	before := cloneSession(w.s)
	if before.State == "" {
		before.State = StateNew // as the engine reads a conversation never seen
	}
	beforeCases := map[string]Complaint{}
	for id, c := range w.cases {
		beforeCases[id] = *cloneComplaint(c)
	}
	turn := Turn{
		Now: w.now, Session: sess, Complaint: c,
		NextCaseNumber: func(prefix string, year int) (int, error) {
			k := fmt.Sprintf("%s/%d", prefix, year)
			w.seq[k]++
			return w.seq[k], nil
		},
		LoadCase: func(id string) (*Complaint, error) { return w.cases[id], nil },
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	res, err := w.e.Handle(context.Background(), turn, in)
	if err != nil {
		return fmt.Errorf("turn failed: %w", err)
	}
	for _, o := range res.Outputs {
		w.logf("    -> %s %s: %s", o.To, o.Key, shorten(strings.ReplaceAll(o.Text, "\n", " / "), 160))
	}

	// Save, as the bot does in one transaction.
	if hasSession && res.Privacy != PrivacyErase {
		w.s = res.Session
	}
	if res.Complaint != nil {
		cp := *res.Complaint
		w.cases[cp.ID] = &cp
		if res.SetTimers {
			w.timers[cp.ID] = slices.Clone(res.Timers)
		}
	}
	if res.Erase && c != nil {
		w.erase(c.ID)
	}
	if res.Privacy == PrivacyErase {
		w.stats.erasures++
		for id, c := range w.cases {
			if c.Chat == w.s.Chat {
				w.erase(id)
			}
		}
		w.s = Session{Channel: "walk", Chat: "c1"}
		w.keyboards, w.live, w.rating, w.refs = nil, nil, nil, nil
	}

	if err := w.check(in, before, beforeCases, res); err != nil {
		return err
	}
	w.remember(in, res)
	return nil
}

// erase does what the bot does when a case's personal data goes.
func (w *walker) erase(id string) {
	c := w.cases[id]
	if c == nil || c.Erased {
		return
	}
	p := c.Pseudonymised(w.now)
	w.cases[id] = &p
	delete(w.timers, id)
}

// remember records the buttons the turn showed, as a client keeps them.
func (w *walker) remember(in Input, res Result) {
	showed := false
	for _, o := range res.Outputs {
		if o.To != ToConsumer {
			continue
		}
		for _, row := range o.Buttons {
			for _, b := range row {
				if strings.HasPrefix(b.Data, prefixRate) {
					w.rating = append(w.rating, b.Data)
					continue
				}
				if !showed {
					w.live, showed = nil, true
				}
				w.live = append(w.live, b)
				w.keyboards = append(w.keyboards, b.Data)
			}
		}
	}
	if in.Kind != InputAgent && in.Kind != InputTimer && !showed {
		if _, _, ok := strings.Cut(firstData(w.live), keyboardMark); ok && !strings.HasPrefix(firstData(w.live), fmt.Sprint(w.s.Keyboard)+keyboardMark) {
			w.live = nil // the keyboard shown last is no longer in force
		}
	}
	if len(w.keyboards) > 400 {
		w.keyboards = w.keyboards[len(w.keyboards)-400:]
	}
}

func firstData(bs []Button) string {
	if len(bs) == 0 {
		return ""
	}
	return bs[0].Data
}

func cloneSession(s Session) Session {
	cp := s
	cp.Answers = map[string]Answer{}
	for k, v := range s.Answers {
		cp.Answers[k] = v
	}
	cp.Cases = slices.Clone(s.Cases)
	cp.Sources = map[string]string{}
	for k, v := range s.Sources {
		cp.Sources[k] = v
	}
	return cp
}

var (
	rawKey  = regexp.MustCompile(`^[a-z_]+(\.[a-z_]+)+$`)
	isoDate = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}\b`)
)

// check tests the dialog's promises after one turn.
func (w *walker) check(in Input, before Session, beforeCases map[string]Complaint, res Result) error {
	consumerTurn := in.Kind != InputAgent && in.Kind != InputTimer
	var toConsumer []Output
	for _, o := range res.Outputs {
		if err := w.checkOutput(in, o, res); err != nil {
			return fmt.Errorf("output %s %s: %w\n%q", o.To, o.Key, err, shorten(o.Text, 400))
		}
		if o.To == ToConsumer {
			toConsumer = append(toConsumer, o)
		}
	}

	// Never without a way forward. Once an agent owns a case the bot stays
	// quiet: the consumer is talking to a person, who got the message.
	humanHeard := false
	for _, o := range res.Outputs {
		if c := w.cases[o.Case]; o.To == ToAgents && c != nil && c.HumanOwned && o.Key == "agent.consumer_message" {
			humanHeard = true
		}
	}
	if consumerTurn && len(toConsumer) == 0 && res.Privacy == "" && !humanHeard {
		return fmt.Errorf("the consumer got no answer")
	}

	// A file is kept (in an answer or the case) or the consumer is told.
	if in.Attachment != nil && consumerTurn && !in.Edited {
		kept := false
		for _, a := range w.s.Answers {
			for _, f := range a.Attachments {
				kept = kept || f == *in.Attachment
			}
		}
		for _, o := range res.Outputs {
			kept = kept || (o.Attachment != nil && *o.Attachment == *in.Attachment)
		}
		told := false
		for _, o := range toConsumer {
			told = told || o.Key == "validate.not_attachment" || o.Key == "validate.file_too_large" || o.Key == "intake.old_button"
		}
		if !kept && !told && res.Privacy == "" {
			return fmt.Errorf("a file was dropped without a word: %s", keys(res.Outputs))
		}
	}

	// An old or forged button changes nothing but says so.
	if in.Kind == InputChoice && !strings.HasPrefix(in.Data, prefixRate) {
		number, _, ok := strings.Cut(in.Data, keyboardMark)
		if !ok || number != fmt.Sprint(before.Keyboard) || before.Keyboard == 0 {
			w.stats.oldButtons++
			if len(toConsumer) == 0 || toConsumer[0].Key != "intake.old_button" {
				return fmt.Errorf("an old button was not refused: %s", keys(res.Outputs))
			}
			if w.s.State != before.State || w.s.Field != before.Field || w.s.Issuer != before.Issuer || w.s.Case != before.Case ||
				len(w.s.Answers) != len(before.Answers) || res.Complaint != nil || res.Privacy != "" {
				return fmt.Errorf("an old button changed the conversation: %s/%s -> %s/%s", before.State, before.Field, w.s.State, w.s.Field)
			}
		}
	}

	// Nothing typed into one question lands in another.
	if consumerTurn && isDraft(w.s.State) && isDraft(before.State) && w.s.Answers != nil {
		allowed := map[string]bool{}
		if in.Edited {
			allowed[before.Sources[in.Ref]] = true
		} else if before.State == StateField || before.State == StateEditing {
			allowed[before.Field] = true
		}
		for id, a := range w.s.Answers {
			if old, ok := before.Answers[id]; (!ok || !sameAnswer(old, a)) && !allowed[id] {
				return fmt.Errorf("answer to %s changed while %s/%s was asked: %+v", id, before.State, before.Field, a)
			}
		}
	}

	// A filed case is exactly the draft reviewed and sent.
	if res.Complaint != nil {
		if _, existed := beforeCases[res.Complaint.ID]; !existed {
			w.stats.filed++
			if err := w.checkFiled(in, before, beforeCases, *res.Complaint); err != nil {
				return fmt.Errorf("filed %s: %w", res.Complaint.ID, err)
			}
		}
	}

	// Every case of the consumer is reachable from /status.
	for id, c := range w.cases {
		if !c.Erased && c.Chat == w.s.Chat && !contains(w.s.filed(), id) && res.Privacy != PrivacyErase {
			return fmt.Errorf("case %s is not among the conversation's cases %v", id, w.s.filed())
		}
	}
	if in.Kind == InputCommand && in.Command == CommandStatus && res.Privacy == "" {
		all := texts(toConsumer)
		for id, c := range w.cases {
			if !c.Erased && c.open() && !strings.Contains(all, id) {
				return fmt.Errorf("/status does not show open case %s:\n%s", id, all)
			}
		}
		if len(w.s.filed()) > 0 && strings.Contains(all, w.e.Catalog.Printer(w.s.Lang).Text("intake.status_none", nil)) {
			return fmt.Errorf("/status says there is no complaint")
		}
	}

	// Erased data stays erased.
	for id, c := range w.cases {
		if old, ok := beforeCases[id]; ok && old.Erased && (len(c.History) > len(old.History) && c.History[len(c.History)-1].Text != "" && c.History[len(c.History)-1].By == "consumer" || len(c.Answers) > 0) {
			return fmt.Errorf("erased case %s got personal data back", id)
		}
	}

	// Case numbers are gapless per prefix and year.
	counts := map[string]int{}
	for id := range w.cases {
		counts[id[:strings.LastIndex(id, "-")]]++
	}
	for k, n := range counts {
		if w.seq[k[:strings.Index(k, "-")]+"/"+k[strings.Index(k, "-")+1:]] != n {
			return fmt.Errorf("case numbers of %s: %d cases, counter at %v", k, n, w.seq)
		}
	}

	// Timers belong to their case and lie ahead.
	if res.SetTimers && res.Complaint != nil {
		for _, tm := range res.Timers {
			if tm.Case != res.Complaint.ID || (tm.Kind != TimerPurge && !tm.At.After(w.now)) {
				return fmt.Errorf("timer %+v at %s", tm, w.now)
			}
		}
	}
	return nil
}

func sameAnswer(a, b Answer) bool {
	return a.Value == b.Value && a.Skipped == b.Skipped && len(a.Attachments) == len(b.Attachments)
}

// checkOutput tests one message: it renders, fits the platforms, goes to
// the right conversation and company, speaks its reader's language, and
// tells only the dates stored on its case.
func (w *walker) checkOutput(in Input, o Output, res Result) error {
	switch {
	case strings.TrimSpace(o.Text) == "":
		return fmt.Errorf("empty text")
	case strings.Contains(o.Text, "<no value>"), strings.Contains(o.Text, "%!"),
		strings.Contains(strings.ReplaceAll(o.Text, "{{.Case}}", ""), "{{"): // what the consumer typed stays literal
		return fmt.Errorf("broken template")
	case rawKey.MatchString(strings.TrimSpace(o.Text)):
		return fmt.Errorf("a message key instead of text")
	case !strings.HasPrefix(o.Key, "intake.") && !strings.HasPrefix(o.Key, "case.") && !strings.HasPrefix(o.Key, "agent.") &&
		!strings.HasPrefix(o.Key, "validate.") && !strings.HasPrefix(o.Key, "language.") && !strings.HasPrefix(o.Key, "privacy.") &&
		o.Key != "help.text" && o.Key != "command.unknown":
		return fmt.Errorf("unexpected key")
	}
	for _, line := range strings.Split(o.Text, "\n") {
		if len(line) > 4096 {
			return fmt.Errorf("a line of %d bytes: no platform takes it", len(line))
		}
	}
	for _, row := range o.Buttons {
		for _, b := range row {
			if strings.TrimSpace(b.Label) == "" || b.Data == "" || len(b.Data) > 64 || len([]rune(b.Label)) > 64 {
				return fmt.Errorf("bad button %+v", b)
			}
		}
	}
	var c *Complaint
	if o.Case != "" {
		c = w.cases[o.Case]
	}
	if o.To == ToAgents {
		if o.Case == "" && o.Key != "agent.unknown_case" && o.Key != "agent.unknown_action" {
			return fmt.Errorf("agents' message without a case")
		}
		if c != nil && o.Issuer != c.Issuer {
			return fmt.Errorf("message on %s routed to %s's desk", c.ID, o.Issuer)
		}
		return w.checkLanguage(o, "en")
	}
	if o.Channel != "walk" || o.Chat != "c1" {
		return fmt.Errorf("sent to %s/%s", o.Channel, o.Chat)
	}
	lang := w.s.Lang
	if in.Kind == InputAgent || in.Kind == InputTimer {
		if c == nil {
			return fmt.Errorf("consumer message about no case")
		}
		if c.Erased {
			return fmt.Errorf("message to a consumer whose data is erased")
		}
		lang = c.Lang
	}
	if o.Key != "validate.card_masked" {
		if err := w.checkLanguage(o, lang); err != nil {
			return err
		}
	}
	return w.checkDates(o)
}

// checkLanguage tests that o starts as its message does in lang.
func (w *walker) checkLanguage(o Output, lang string) error {
	want := w.e.Catalog.Printer(lang).Text(o.Key, nil)
	if i := strings.Index(want, "<no value>"); i >= 0 {
		want = want[:i]
	}
	if want == o.Key || len(want) < 4 {
		return nil
	}
	if !strings.HasPrefix(o.Text, want) {
		return fmt.Errorf("not in %s: want it to start %q", lang, want)
	}
	return nil
}

// checkDates tests that every date a message about a case gives is one
// stored on the case.
func (w *walker) checkDates(o Output) error {
	var c *Complaint
	switch o.Key {
	case "case.filed", "case.extended", "case.deadline_passed":
		c = w.cases[o.Case]
	case "case.status":
		c = w.cases[w.s.Case]
	default:
		return nil
	}
	if c == nil {
		return fmt.Errorf("no case %q", o.Case)
	}
	stored := map[string]bool{c.ReceivedDate.String(): true}
	for _, d := range c.Deadlines {
		due, _ := c.activeEnds(d)
		stored[due.String()] = true
		if o.Key == "case.filed" {
			stored[d.Due.String()] = true
			if d.Extended != nil {
				stored[d.Extended.String()] = true
			}
		}
	}
	text, _, _ := strings.Cut(o.Text, "\n\n") // next steps follow a blank line
	for _, d := range isoDate.FindAllString(text, -1) {
		if !stored[d] {
			return fmt.Errorf("date %s is not stored on %s (%v)", d, c.ID, stored)
		}
	}
	return nil
}

// checkFiled tests a new case against the draft it was filed from.
func (w *walker) checkFiled(in Input, before Session, beforeCases map[string]Complaint, c Complaint) error {
	if in.Kind != InputChoice || before.State != StateReview {
		return fmt.Errorf("filed by %s in %s", w.describe(in), before.State)
	}
	if c.Issuer != before.Issuer || c.Lang != before.Lang || c.Channel != before.Channel || c.Chat != before.Chat {
		return fmt.Errorf("filed with %s in %s for %s/%s; the draft was %s in %s", c.Issuer, c.Lang, c.Channel, c.Chat, before.Issuer, before.Lang)
	}
	pol, _ := w.e.Policies().Get(c.Issuer)
	if !strings.HasPrefix(c.ID, pol.CasePrefix+"-") {
		return fmt.Errorf("case number without %s's prefix", c.Issuer)
	}
	filed := map[string]FiledAnswer{}
	for _, a := range c.Answers {
		if _, ok := pol.Field(a.Field); !ok {
			return fmt.Errorf("answer to %s, which %s's policy does not ask", a.Field, c.Issuer)
		}
		filed[a.Field] = a
	}
	for _, f := range pol.Fields {
		a, answered := before.Answers[f.ID]
		got, isFiled := filed[f.ID]
		applicable := f.AskIf == nil || before.Answers[f.AskIf.Field].Value == f.AskIf.Equals
		switch {
		case applicable && f.Required && (!answered || a.Skipped):
			return fmt.Errorf("filed without the required %s", f.ID)
		case applicable && answered && !a.Skipped && (!isFiled || got.Value != a.Value || len(got.Attachments) != len(a.Attachments)):
			return fmt.Errorf("%s filed as %+v, reviewed as %+v", f.ID, got, a)
		case (!applicable || !answered || a.Skipped) && isFiled:
			return fmt.Errorf("%s filed though not reviewed", f.ID)
		}
	}
	if !before.FirstComplaint.IsZero() && !before.FirstComplaint.After(c.ReceivedDate) && c.FirstComplaint != before.FirstComplaint {
		return fmt.Errorf("first complaint %s, the consumer said %s", c.FirstComplaint, before.FirstComplaint)
	}
	return nil
}
