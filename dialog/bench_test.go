package dialog

import (
	"context"
	"testing"
)

// go test -run '^$' -bench . -benchmem ./dialog
//
// One intake turn: the machine rebuilt from the stored session, an answer
// validated, the next question rendered.
func BenchmarkIntakeTurn(b *testing.B) {
	e := newEngine(b)
	s := Session{Channel: "bench", Chat: "1", Lang: "sv", State: StateField, Issuer: "amex-se", Field: "description",
		Answers: map[string]Answer{}}
	in := Input{Kind: InputMessage, Channel: "bench", Chat: "1", Text: "Jag debiterades två gånger för samma köp i november."}
	ctx := context.Background()
	for b.Loop() {
		res, err := e.Handle(ctx, Turn{Now: dec18, Session: s}, in)
		if err != nil || res.Session.Field == "description" {
			b.Fatalf("turn did not advance: %v %s", err, res.Session.Field)
		}
	}
}
