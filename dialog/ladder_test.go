package dialog

import (
	"strings"
	"testing"
	"time"

	"ombud/policies"
)

// explain renders an issuer's ladder as policy explain does.
func explain(t *testing.T, e *Engine, issuer, lang string, received time.Time, first, today string) string {
	t.Helper()
	pol, ok := e.Policies().Get(issuer)
	if !ok {
		t.Fatalf("no policy %s", issuer)
	}
	var firstDate, todayDate policies.Date
	var err error
	if first != "" {
		if firstDate, err = policies.ParseDate(first); err != nil {
			t.Fatal(err)
		}
	}
	if today != "" {
		if todayDate, err = policies.ParseDate(today); err != nil {
			t.Fatal(err)
		}
	}
	var b strings.Builder
	Explain(&b, e.Catalog.Printer(lang), pol, pol.Plan(received, firstDate), ExplainOptions{Today: todayDate})
	return b.String()
}

func noon(date string) time.Time {
	d, _ := policies.ParseDate(date)
	return d.Time(time.UTC).Add(11 * time.Hour) // noon in Stockholm and Copenhagen in winter
}

// What consumers are told, per issuer and language: the dates and words
// that a complaints lawyer and a native reader found wrong, as they must
// read now. Each body's deadline counts on its own country's calendar.
func TestWhatTheLadderSays(t *testing.T) {
	e := newEngine(t)
	tests := []struct {
		name, issuer, lang, received, first, today string
		want, not                                  []string
	}{
		// ARN is Swedish: skærtorsdag 2027-03-25 is a Swedish working day, so
		// a year from 2026-03-25 ends that day, also for a Danish issuer.
		{"klarna ARN on the Swedish calendar", "klarna-dk", "da", "2026-03-27", "2026-03-25", "2026-03-27",
			[]string{"Sidste frist for at klage til ARN (et år efter din første klage til Klarna): torsdag 2027-03-25 (1 år)"}, []string{"2027-03-30"}},
		{"klarna ARN on the Swedish calendar, en", "klarna-dk", "en", "2026-03-27", "2026-03-25", "2026-03-27",
			[]string{"Last day to file with ARN (one year after your first complaint to Klarna): Thursday 2027-03-25"}, nil},
		// Whit Monday 2027-05-17 is a Danish holiday and a Swedish working day.
		{"klarna ARN on Whit Monday", "klarna-dk", "en", "2026-05-18", "2026-05-17", "2026-05-18",
			[]string{"Monday 2027-05-17 (1 year)"}, nil},
		// 6 January is a Swedish holiday and a Danish working day.
		{"klarna ARN on Epiphany", "klarna-dk", "en", "2026-01-07", "2026-01-06", "2026-01-07",
			[]string{"Thursday 2027-01-07 (1 year)"}, nil},
		{"amex-se ARN on Epiphany", "amex-se", "sv", "2026-01-07", "2026-01-06", "2026-01-07",
			[]string{"torsdag 2027-01-07 (1 år)"}, nil},
		// Amex Denmark promises 35 days in all; Ankenævnet's 5 weeks end the
		// same day.
		{"amex-dk 35 days in all", "amex-dk", "da", "2026-12-18", "", "2026-12-18",
			[]string{"inden for i alt 35 dage fra modtagelsen", ": fredag 2027-01-22 (35 kalenderdage)",
				"ikke har svaret inden for 35 kalenderdage (senest fredag 2027-01-22)", "tillader højst 35 arbejdsdage"},
			[]string{"2027-02-11", "Højst 35 arbejdsdage i alt"}},
		{"amex-dk 35 days in all, en", "amex-dk", "en", "2026-12-18", "", "2026-12-18",
			[]string{"A final decision within 35 days in all from receipt", "Friday 2027-01-22 (35 calendar days)",
				"If the American Express complaints department says no, in whole or in part."}, nil},
		// A limit already passed is said to have passed.
		{"passed ARN limit", "amex-se", "en", "2025-10-02", "2025-10-01", "2026-12-18",
			[]string{"Thursday 2026-10-01. That date has passed: ARN may refuse a case filed now. You can still go to court."},
			[]string{"you must act by"}},
		{"passed ARN limit, sv", "amex-se", "sv", "2025-10-02", "2025-10-01", "2026-12-18",
			[]string{"torsdag 2026-10-01. Det datumet har passerat: ARN kan avvisa en anmälan som görs nu."}, []string{"du måste agera"}},
		{"limit ahead", "amex-se", "sv", "2026-12-18", "2026-11-02", "2026-12-18",
			[]string{"(ett år efter ditt första klagomål till American Express): tisdag 2027-11-02 (1 år)"}, nil},
		// Inkassogram has no time limit for its answer: none is invented.
		{"inkassogram, no invented limit", "inkassogram", "sv", "2026-12-18", "", "2026-12-18",
			[]string{"inte har svarat inom rimlig tid", "Om Inkassograms klagomålsansvarig säger nej, helt eller delvis."},
			[]string{"30 dagar", "inom 30", "senast söndag"}},
		{"inkassogram, no invented limit, en", "inkassogram", "en", "2026-12-18", "", "2026-12-18",
			nil, []string{"30 days", "within 30"}},
		// Words: names of languages in the reader's language, bodies inside
		// sentences, calendar days called so, the rules' date.
		{"words sv", "billender", "sv", "2026-12-18", "", "2026-12-18",
			[]string{"Språk: svenska, engelska", "(14 kalenderdagar)", "Om Billenders klagomålsansvarig säger nej",
				"Adress: Box 24215, 104 51 Stockholm", "Reglerna för klagomål granskades 2026-11-27",
				"Billender svarar på klagomålet (under normala förhållanden)"},
			[]string{"Språk: Svenska", "Om Klagomålsansvarig"}},
		{"words sv, amex", "amex-se", "sv", "2026-12-18", "", "2026-12-18",
			[]string{"Om klagomålsansvarig på American Express säger nej, helt eller delvis.",
				"Om klagomålsansvarig på American Express inte har svarat senast fredag 2027-01-15, eller senast fredag 2027-02-12 om du har fått ett besked"},
			[]string{"Om Klagomålsansvarig", "du måste agera"}},
		{"words en", "amex-se", "en", "2026-12-18", "", "2026-12-18",
			[]string{"Languages: Swedish, English", "If the complaints manager at American Express says no"},
			[]string{"If The complaints manager", "Languages: Svenska"}},
		{"words da", "klarna-dk", "da", "2026-12-18", "", "2026-12-18",
			[]string{"Sprog: svensk, engelsk", "Hvis mæglingen hos Mæglingsteamet for Forbrugerklager i Nævnenes Hus ender uden en aftale.",
				"1.110–100.000 kr.", "Mindste beløb i tvisten: 2.000 SEK"},
			[]string{"Center for Klageløsning", "du skal reagere", "Sprog: Svenska", "1 110–100 000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := explain(t, e, tt.issuer, tt.lang, noon(tt.received), tt.first, tt.today)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("lacks %q:\n%s", w, got)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("says %q:\n%s", n, got)
				}
			}
		})
	}
}

// After a holding reply, the steps that open when the issuer has not
// answered give the date in force for the case, not the original one.
func TestNextStepsUseTheDatesInForce(t *testing.T) {
	h := filed(t, "klarna-dk", "en") // received 2026-12-18: 15 working days 2027-01-14, 35 2027-02-11
	h.agent(ActionExtend, "", "We are waiting for the shop.")
	h.agent(ActionDecide, OutcomeRejected, "We cannot refund you.")
	msg := h.consumer()[0].Text
	if !strings.Contains(msg, "has not answered by Thursday 2027-02-11.") {
		t.Errorf("next steps lack the extended date in force:\n%s", msg)
	}
	if strings.Contains(msg, "2027-01-14") {
		t.Errorf("next steps still give the original date:\n%s", msg)
	}
}

// A claim below a body's minimum is said to be below it.
func TestClaimBelowTheMinimum(t *testing.T) {
	h := newHarness(t, "en", dec18)
	h.fileStraightAway("billender")
	for h.s.State == StateField {
		f, _ := h.policy().Field(h.s.Field)
		switch f.ID {
		case "wants_compensation":
			h.press(dataYes)
		case "compensation_amount":
			h.say("1 250 kr")
		default:
			h.answer(goodAnswer(f))
		}
	}
	h.press(dataSubmit)
	h.agent(ActionDecide, OutcomeRejected, "No.")
	if msg := h.consumer()[0].Text; !strings.Contains(msg, "Your claim of 1,250 SEK is below this minimum of 2,000 SEK: ARN may refuse the case.") {
		t.Errorf("no word on the claim below ARN's minimum:\n%s", msg)
	}
}

// /status gives each deadline in its own unit: hours for Billender's
// 24 hours, days for its 14 calendar days, working days for PSD2's 15.
func TestStatusUnits(t *testing.T) {
	h := filed(t, "billender", "en") // received 2026-12-18 10:00 UTC
	h.now = h.now.Add(3 * time.Hour)
	h.cmd(CommandStatus, "")
	status := h.consumer()[0].Text
	for _, want := range []string{"(21 hours left)", "(14 days left)"} {
		if !strings.Contains(status, want) {
			t.Errorf("status lacks %q:\n%s", want, status)
		}
	}
	if strings.Contains(status, "working day") {
		t.Errorf("billender status counts working days:\n%s", status)
	}
	h = filed(t, "amex-se", "en")
	h.cmd(CommandStatus, "")
	if status := h.consumer()[0].Text; !strings.Contains(status, "(15 working days left)") {
		t.Errorf("amex-se status:\n%s", status)
	}
}

// The issuers can find who complains: a name everywhere, Inkassogram's
// case or personal identity number (masked on the desk), and Amex
// Denmark's reply address of the kind chosen.
func TestWhatTheIssuerNeedsIsAsked(t *testing.T) {
	e := newEngine(t)
	for _, id := range []string{"amex-se", "amex-dk", "billender", "inkassogram", "klarna-dk"} {
		pol, _ := e.Policies().Get(id)
		if _, ok := pol.Field("full_name"); !ok {
			t.Errorf("%s does not ask the consumer's name", id)
		}
		prompts := map[string]bool{}
		for _, f := range pol.Fields {
			q := f.Prompt.In("en")
			if prompts[q] {
				t.Errorf("%s asks %q twice", id, q)
			}
			prompts[q] = true
		}
	}

	h := newHarness(t, "en", dec18)
	h.fileStraightAway("inkassogram")
	for h.s.State == StateField {
		f, _ := h.policy().Field(h.s.Field)
		switch f.ID {
		case "has_case_number":
			h.press(dataNo)
		case "personal_number":
			h.say("19850412-1234")
		default:
			h.answer(goodAnswer(f))
		}
	}
	h.press(dataSubmit)
	var stored, desk string
	for _, a := range h.c.Answers {
		if a.Field == "personal_number" {
			stored = a.Value
		}
	}
	for _, o := range h.agents() {
		desk += o.Text
	}
	if stored != "19850412-1234" || !strings.Contains(desk, "19850412-****") || strings.Contains(desk, "1234") {
		t.Errorf("personal number stored %q; desk shows:\n%s", stored, desk)
	}

	h = newHarness(t, "da", dec18)
	h.fileStraightAway("amex-dk")
	var asked []string
	for h.s.State == StateField {
		f, _ := h.policy().Field(h.s.Field)
		asked = append(asked, f.ID)
		if f.ID == "reply_channel" {
			h.press(prefixChoice + "email")
			continue
		}
		h.answer(goodAnswer(f))
	}
	if got := strings.Join(asked, " "); !strings.Contains(got, "reply_channel email") || strings.Contains(got, "postal_address") {
		t.Errorf("amex-dk asked %s", got)
	}
}
