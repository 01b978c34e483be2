package policies

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyFence keeps the rulebook free of I/O adapters: it must stay
// usable from the terminal, the chat adapters and tests alike.
func TestDependencyFence(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := map[string]string{
		"net/http":                      "policies does no network I/O",
		"github.com/dgraph-io/badger":   "only store imports Badger",
		"github.com/go-telegram/bot":    "only bot/telegram imports the Telegram SDK",
		"github.com/slack-go/slack":     "only bot/slack imports the Slack SDK",
		"github.com/nicksnyder/go-i18n": "words live in locales, not in the rulebook",
	}
	for _, dep := range strings.Fields(string(out)) {
		for bad, why := range forbidden {
			if dep == bad || strings.HasPrefix(dep, bad+"/") {
				t.Errorf("policies depends on %s: %s", dep, why)
			}
		}
	}
}
