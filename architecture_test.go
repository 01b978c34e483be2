package ombud

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"maps"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"ombud/locales"
)

// goPackage is what go list says of one package.
type goPackage struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
	Deps         []string
}

// listPackages runs go list over the module.
func listPackages(t *testing.T) []goPackage {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []goPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p goPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func within(path, pkg string) bool { return path == pkg || strings.HasPrefix(path, pkg+"/") }

// TestFences keeps each outside library in the one package that adapts
// it, tests included, and the domain core free of I/O.
func TestFences(t *testing.T) {
	owners := map[string]string{
		"github.com/dgraph-io/badger":           "ombud/store",
		"github.com/go-telegram/bot":            "ombud/bot/telegram",
		"github.com/slack-go/slack":             "ombud/bot/slack",
		"github.com/prometheus/client_golang":   "ombud/bot/metrics",
		"github.com/fsnotify/fsnotify":          "ombud/policies/registry",
		"github.com/nicksnyder/go-i18n":         "ombud/locales",
		"github.com/looplab/fsm":                "ombud/dialog",
		"github.com/santhosh-tekuri/jsonschema": "ombud/policies",
		"github.com/rickar/cal":                 "ombud/policies",
		"github.com/gorilla/websocket":          "ombud/bot/slack",
	}
	// The core decides; it reads no clock but the one it is given, and
	// touches no disk, network or process of its own.
	pure := map[string]bool{"ombud/dialog": true, "ombud/policies": true, "ombud/locales": true}
	ioPackages := map[string]bool{"os": true, "os/exec": true, "os/signal": true, "net": true, "net/http": true, "syscall": true}
	ioTrees := []string{"ombud/store", "ombud/bot", "ombud/cmd", "ombud/policies/registry"}

	for _, p := range listPackages(t) {
		all := append(append(append([]string{}, p.Imports...), p.TestImports...), p.XTestImports...)
		for _, imp := range all {
			for lib, owner := range owners {
				if within(imp, lib) && !within(p.ImportPath, owner) {
					t.Errorf("%s imports %s: only %s may", p.ImportPath, imp, owner)
				}
			}
		}
		if !pure[p.ImportPath] {
			continue
		}
		for _, imp := range p.Imports {
			if ioPackages[imp] || slices.ContainsFunc(ioTrees, func(tree string) bool { return within(imp, tree) }) {
				t.Errorf("%s imports %s: the core does no I/O", p.ImportPath, imp)
			}
		}
		for _, dep := range p.Deps {
			if dep == "net/http" || slices.ContainsFunc(ioTrees, func(tree string) bool { return within(dep, tree) }) {
				t.Errorf("%s depends on %s: the core does no I/O", p.ImportPath, dep)
			}
		}
	}
}

// TestEveryPrintedKeyIsInTheCatalogs finds the message keys in the code (a
// string such as "intake.unsupported", or a prefix such as "weekday." that
// code completes) and checks that every catalog has them. A key the
// catalogs lack prints as itself, in front of a consumer.
func TestEveryPrintedKeyIsInTheCatalogs(t *testing.T) {
	catalog, err := locales.New()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]map[string]bool{}
	namespaces := map[string]bool{}
	for _, lang := range catalog.Languages() {
		have[lang] = map[string]bool{}
		for _, id := range catalog.MessageIDs(lang) {
			have[lang][id] = true
			ns, _, _ := strings.Cut(id, ".")
			namespaces[ns] = true
		}
	}
	keys := codeKeys(t, namespaces)
	// Strings shaped like keys that are not messages.
	for key, why := range map[string]string{
		"agent.delivered": "an outbox key of older Ombuds, read into a notice (dialog.legacyNotices)",
	} {
		if _, ok := keys[key]; !ok {
			t.Errorf("%q (%s) is no longer in the code: drop it here", key, why)
		}
		delete(keys, key)
	}
	if len(keys) < 100 {
		t.Fatalf("found only %d keys in the code: the scan is broken", len(keys))
	}
	for key, where := range keys {
		for lang, ids := range have {
			found := ids[key]
			if strings.HasSuffix(key, ".") {
				found = slices.ContainsFunc(slices.Collect(maps.Keys(ids)), func(id string) bool { return strings.HasPrefix(id, key) })
			}
			if !found {
				t.Errorf("%s: %q is not in the %s catalog", where, key, lang)
			}
		}
	}
}

// messageKey is the shape of a catalog id, or of a prefix code completes.
var messageKey = regexp.MustCompile(`^[a-z][a-z0-9_]*\.([a-z0-9_]+\.?)*$`)

// codeKeys returns the string literals of the module's code (tests and
// fakes left out) that name a message, with where each was first seen.
func codeKeys(t *testing.T, namespaces map[string]bool) map[string]string {
	t.Helper()
	keys := map[string]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasSuffix(d.Name(), "test") || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		file, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(file, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil || !messageKey.MatchString(s) {
				return true
			}
			if ns, _, _ := strings.Cut(s, "."); namespaces[ns] {
				if _, seen := keys[s]; !seen {
					keys[s] = fset.Position(lit.Pos()).String()
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestAdaptersNeverReadMessageKeys: a message key is for rendering and
// logs. What an output means to a channel or the desk travels as a
// dialog.Notice, so rewording a message can never change what a channel
// does. This finds a key compared, switched on or matched by prefix
// outside dialog and locales.
func TestAdaptersNeverReadMessageKeys(t *testing.T) {
	fset := token.NewFileSet()
	isKeySelector := func(e ast.Expr) bool {
		sel, ok := e.(*ast.SelectorExpr)
		return ok && sel.Sel.Name == "Key"
	}
	isMessageLiteral := func(e ast.Expr) bool {
		lit, ok := e.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return false
		}
		s, err := strconv.Unquote(lit.Value)
		return err == nil && strings.Contains(s, ".") && messageKey.MatchString(s)
	}
	for _, dir := range []string{"bot", "bot/slack", "bot/telegram", "bot/console", "bot/metrics", "cmd/ombud"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			file, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(file, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.BinaryExpr:
					if (isKeySelector(n.X) && isMessageLiteral(n.Y)) || (isKeySelector(n.Y) && isMessageLiteral(n.X)) {
						t.Errorf("%s compares a message key; use a dialog.Notice", fset.Position(n.Pos()))
					}
				case *ast.SwitchStmt:
					if n.Tag != nil && isKeySelector(n.Tag) {
						t.Errorf("%s switches on a message key; use a dialog.Notice", fset.Position(n.Pos()))
					}
				case *ast.CallExpr:
					if len(n.Args) == 2 && isKeySelector(n.Args[0]) && isMessageLiteral(n.Args[1]) {
						t.Errorf("%s matches a message key; use a dialog.Notice", fset.Position(n.Pos()))
					}
				}
				return true
			})
		}
	}
}
