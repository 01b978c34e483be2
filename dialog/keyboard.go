package dialog

import (
	"strconv"
	"strings"
)

// Buttons stay on screen, and pressable, long after the question that
// showed them. So every button a consumer's turn shows carries the number
// of its keyboard, and a press counts only while that keyboard is the one
// in force (Session.Keyboard): an old button never answers today's
// question. The value behind the number is then checked against what the
// current question accepts. Buttons shown outside a consumer's turn, such
// as the rating after an agent closes a case, name the case they concern
// instead, and are checked against that case.

// keyboardMark separates a keyboard's number from the button's value.
const keyboardMark = "|"

// Confirmations a keyboard can ask for (Session.Confirm).
const (
	confirmDiscard = "discard" // discard the draft (/cancel)
	confirmNew     = "new:"    // discard the draft and start a new one, with this issuer
	confirmErase   = "erase"   // erase all the consumer's data (/delete)
	dataDiscard    = "discard:yes"
	dataKeepDraft  = "discard:no"
	prefixCase     = "case:" // follow another of the consumer's cases
)

// pressed returns the value of the button pressed, if it belongs to the
// keyboard in force.
func (t *turn) pressed() (string, bool) {
	data := t.in.Data
	if strings.HasPrefix(data, prefixRate) {
		return data, true // checked against the case it names
	}
	number, value, ok := strings.Cut(data, keyboardMark)
	if !ok {
		return "", false
	}
	n, err := strconv.Atoi(number)
	if err != nil || n == 0 || n != t.s.Keyboard {
		return "", false
	}
	return value, true
}

// oldButton answers a press of a button that is no longer in force: it
// says so and asks the current question again, with buttons that work.
func (t *turn) oldButton() {
	t.sayKey("intake.old_button", nil)
	t.prompt()
}

// finish closes a consumer's turn: a new keyboard is in force, numbered,
// and the buttons shown before no longer count. A turn that only
// informed keeps the keyboard as it was.
func (t *turn) finish() {
	if t.caseLang != "" || t.keepKeyboard {
		return
	}
	t.s.Keyboard++
	if !t.confirming {
		t.s.Confirm = ""
	}
	for _, o := range t.out {
		if o.To != ToConsumer {
			continue
		}
		for _, row := range o.Buttons {
			for i := range row {
				row[i].Data = strconv.Itoa(t.s.Keyboard) + keyboardMark + row[i].Data
			}
		}
	}
}

// confirm asks the consumer to confirm what with the buttons yes and no.
func (t *turn) confirm(what, key string, data map[string]any, yes, no Button) {
	t.s.Confirm, t.confirming = what, true
	t.sayKey(key, data, []Button{yes}, []Button{no})
}

// anywhereButton handles the buttons that mean the same in every state:
// language, confirmations, ratings and following another case. It reports
// whether it handled the press.
func (t *turn) anywhereButton() (bool, error) {
	data := t.in.Data
	if lang, ok := strings.CutPrefix(data, prefixLang); ok {
		t.setLanguage(lang)
		t.prompt()
		return true, nil
	}
	if rest, ok := strings.CutPrefix(data, prefixRate); ok {
		t.rate(rest)
		return true, nil
	}
	if id, ok := strings.CutPrefix(data, prefixCase); ok {
		return true, t.followCase(id)
	}
	confirm := t.s.Confirm
	switch data {
	case dataErase, dataKeep:
		if confirm != confirmErase {
			t.oldButton()
			return true, nil
		}
		if data == dataErase {
			t.privacy = PrivacyErase
			return true, nil
		}
		t.sayKey("privacy.delete_cancelled", nil)
		t.promptDraft()
		return true, nil
	case dataDiscard, dataKeepDraft:
		issuer, startNew := strings.CutPrefix(confirm, confirmNew)
		switch {
		case confirm != confirmDiscard && !startNew:
			t.oldButton()
		case data == dataKeepDraft:
			t.sayKey("intake.draft_kept", nil)
			t.prompt()
		case startNew:
			return true, t.greet(issuer)
		default:
			return true, t.cancel()
		}
		return true, nil
	}
	return false, nil
}

// promptDraft asks the current question again if a complaint is being
// written, so the consumer always sees the way on.
func (t *turn) promptDraft() {
	if isDraft(t.s.State) {
		t.prompt()
	}
}
