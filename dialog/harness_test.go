package dialog

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"ombud/locales"
	"ombud/policies"
)

// harness drives the engine through a conversation the way the bot does:
// it keeps the stored state between turns and allocates case numbers.
type harness struct {
	t      *testing.T
	e      *Engine
	now    time.Time
	lang   string // the platform's language code
	s      Session
	c      *Complaint // the case the last turn was about
	cases  map[string]*Complaint
	seq    map[string]int
	timers []Timer
	out    []Output // outputs of the last turn
	all    []Output // every output so far
	// shown maps each button value the consumer was shown to the data of
	// its latest showing, as a client would send it back.
	shown map[string]string
}

func newEngine(t testing.TB) *Engine {
	t.Helper()
	set, err := policies.Load(policies.Bundled(), policies.BundledDir)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	return &Engine{Policies: func() *policies.Set { return set }, Catalog: cat}
}

func newHarness(t *testing.T, lang string, now time.Time) *harness {
	return &harness{
		t: t, e: newEngine(t), now: now, lang: lang, seq: map[string]int{},
		s: Session{Channel: "test", Chat: "c1"}, shown: map[string]string{},
		cases: map[string]*Complaint{},
	}
}

func (h *harness) run(in Input) []Output {
	h.t.Helper()
	in.Channel, in.Chat, in.Lang, in.At = "test", "c1", h.lang, h.now
	// The case of the turn, as the bot loads it: the one an agent or timer
	// names, else the one the conversation follows.
	c := h.cases[h.s.Case]
	if in.Kind == InputAgent || in.Kind == InputTimer {
		c = h.cases[in.Case]
	}
	turn := Turn{
		Now: h.now, Session: h.s, Complaint: c,
		NextCaseNumber: func(prefix string, year int) (int, error) {
			k := fmt.Sprintf("%s/%d", prefix, year)
			h.seq[k]++
			return h.seq[k], nil
		},
		LoadCase: func(id string) (*Complaint, error) {
			return h.cases[id], nil
		},
	}
	res, err := h.e.Handle(context.Background(), turn, in)
	if err != nil {
		h.t.Fatalf("Handle(%+v) in state %s: %v", in, h.s.State, err)
	}
	h.s = res.Session
	switch {
	case res.Complaint != nil:
		h.cases[res.Complaint.ID] = res.Complaint
		h.c = res.Complaint
	case c != nil:
		h.c = c
	}
	if res.SetTimers {
		h.timers = res.Timers
	}
	for _, o := range res.Outputs {
		if o.Text == "" || strings.Contains(o.Text, "<no value>") {
			h.t.Errorf("output %s has empty or broken text: %q", o.Key, o.Text)
		}
		for _, row := range o.Buttons {
			for _, b := range row {
				if len(b.Data) > 64 {
					h.t.Errorf("button %q data %q is longer than Telegram's 64 bytes", b.Label, b.Data)
				}
				if o.To == ToConsumer {
					_, value, stamped := strings.Cut(b.Data, keyboardMark)
					if !stamped {
						value = b.Data
					}
					h.shown[value] = b.Data
				}
			}
		}
	}
	h.out = res.Outputs
	h.all = append(h.all, res.Outputs...)
	return res.Outputs
}

func (h *harness) say(text string) []Output { return h.run(Input{Kind: InputMessage, Text: text}) }

// press presses the button with value that was shown last.
func (h *harness) press(value string) []Output {
	h.t.Helper()
	data, ok := h.shown[value]
	if !ok {
		h.t.Fatalf("no button %q was shown; outputs: %s", value, keys(h.out))
	}
	return h.run(Input{Kind: InputChoice, Data: data})
}

// pressRaw sends button data as a client could forge it.
func (h *harness) pressRaw(data string) []Output {
	return h.run(Input{Kind: InputChoice, Data: data})
}
func (h *harness) cmd(name, arg string) []Output {
	return h.run(Input{Kind: InputCommand, Command: name, Arg: arg})
}
func (h *harness) agent(action Action, outcome Outcome, text string) []Output {
	return h.run(Input{Kind: InputAgent, Case: h.c.ID, Agent: &AgentAction{Action: action, Agent: "Eva", Outcome: outcome, Text: text}})
}

// consumer returns the texts sent to the consumer in the last turn.
func (h *harness) consumer() []Output { return h.to(ToConsumer) }
func (h *harness) agents() []Output   { return h.to(ToAgents) }

func (h *harness) to(r Recipient) []Output {
	var out []Output
	for _, o := range h.out {
		if o.To == r {
			out = append(out, o)
		}
	}
	return out
}

// want checks the state after the last turn and that the consumer got a
// message with the given key.
func (h *harness) want(state State, key string) {
	h.t.Helper()
	if h.s.State != state {
		h.t.Fatalf("state = %s, want %s; outputs: %s", h.s.State, state, keys(h.out))
	}
	if key == "" {
		return
	}
	for _, o := range h.consumer() {
		if o.Key == key {
			return
		}
	}
	h.t.Fatalf("no consumer message %s; got %s", key, keys(h.out))
}

func (h *harness) policy() *policies.Policy {
	p, ok := h.e.Policies().Get(h.s.Issuer)
	if !ok {
		h.t.Fatalf("no policy %q", h.s.Issuer)
	}
	return p
}

func keys(outs []Output) string {
	var ks []string
	for _, o := range outs {
		ks = append(ks, string(o.To)+":"+o.Key)
	}
	return strings.Join(ks, ", ")
}

// goodAnswer is a valid answer to a field of any type.
func goodAnswer(f policies.Field) Input {
	switch f.Type {
	case policies.FieldChoice:
		return Input{Kind: InputChoice, Data: prefixChoice + f.Choices[0].ID}
	case policies.FieldYesNo:
		return Input{Kind: InputChoice, Data: dataYes}
	case policies.FieldAttachments:
		return Input{Kind: InputChoice, Data: dataDone}
	case policies.FieldDate:
		return Input{Kind: InputMessage, Text: "2026-11-01"}
	case policies.FieldEmail:
		return Input{Kind: InputMessage, Text: "anna.andersson@example.se"}
	case policies.FieldPhone:
		return Input{Kind: InputMessage, Text: "+46 70 123 45 67"}
	case policies.FieldAmount:
		return Input{Kind: InputMessage, Text: "1 250 kr"}
	case policies.FieldReference:
		if !f.Required {
			return Input{Kind: InputChoice, Data: dataSkip}
		}
		return Input{Kind: InputMessage, Text: "12345678"}
	case policies.FieldText:
		return Input{Kind: InputMessage, Text: "Anna Andersson"}
	}
	return Input{Kind: InputMessage, Text: "I was charged twice for the same purchase in November and nobody has fixed it."}
}

// answer gives an answer: typed, or by pressing the button shown for it.
func (h *harness) answer(in Input) []Output {
	h.t.Helper()
	if in.Kind == InputChoice {
		return h.press(in.Data)
	}
	return h.run(in)
}

// answerAllFields answers every question until the review.
func (h *harness) answerAllFields() {
	h.t.Helper()
	for i := 0; h.s.State == StateField; i++ {
		if i > 30 {
			h.t.Fatal("fields never end")
		}
		f, ok := h.policy().Field(h.s.Field)
		if !ok {
			h.t.Fatalf("asking unknown field %q", h.s.Field)
		}
		h.answer(goodAnswer(f))
	}
	h.want(StateReview, "intake.review")
}

// fileStraightAway starts a complaint with issuer, says customer service
// was not contacted, and chooses to file at once: the first field is next.
func (h *harness) fileStraightAway(issuer string) {
	h.t.Helper()
	h.cmd(CommandStart, issuer)
	h.press(dataContinue)
	h.press(dataNo)
	h.press(dataFile)
	h.want(StateField, "intake.question")
}
