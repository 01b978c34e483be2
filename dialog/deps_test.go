package dialog

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyFence keeps the domain core pure: no network, no storage
// engine, no chat SDK. Adapters translate at the edge.
func TestDependencyFence(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, bad := range []string{"net/http", "github.com/dgraph-io/badger", "github.com/go-telegram/bot", "github.com/slack-go/slack", "ombud/store", "ombud/bot"} {
			if dep == bad || strings.HasPrefix(dep, bad+"/") {
				t.Errorf("dialog depends on %s", dep)
			}
		}
	}
}
