package policies

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

//go:embed *.yaml
var bundled embed.FS

// Bundled is the policy folder embedded in the binary.
func Bundled() fs.FS { return bundled }

// BundledDir is how bundled files are named in problems: their path in the
// repository.
const BundledDir = "policies"

// File is one policy file's name (as shown in problems) and content.
type File struct {
	Name string
	Data []byte
}

// Set is a consistent set of policies, checked together.
type Set struct {
	byID     map[string]*Policy
	ids      []string
	warnings Problems
	confirms Problems
}

// Get returns the policy with the given id.
func (s *Set) Get(id string) (*Policy, bool) {
	p, ok := s.byID[id]
	return p, ok
}

// IDs lists the policy ids in alphabetical order.
func (s *Set) IDs() []string { return append([]string(nil), s.ids...) }

// Offered lists the policies open to new complaints, in order of id.
func (s *Set) Offered() []*Policy {
	var out []*Policy
	for _, p := range s.All() {
		if !p.Withdrawn {
			out = append(out, p)
		}
	}
	return out
}

// All lists the policies in alphabetical order of id.
func (s *Set) All() []*Policy {
	out := make([]*Policy, 0, len(s.ids))
	for _, id := range s.ids {
		out = append(out, s.byID[id])
	}
	return out
}

// Warnings are the lint findings that did not block the set.
func (s *Set) Warnings() Problems { return s.warnings }

// ToConfirm are the facts a person must still confirm (a source's
// confirm); they do not block the set either.
func (s *Set) ToConfirm() Problems { return s.confirms }

// Load reads every .yaml and .yml file at the root of fsys and checks them
// as one set. dir is the folder name used in problems. On any error it
// returns a nil Set and the problems as a Problems error.
func Load(fsys fs.FS, dir string) (*Set, error) {
	files, err := ReadFiles(fsys, dir)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, Problems{{File: dir, Message: "no policy files (*.yaml) found"}}
	}
	set, problems := Check(files)
	if errs := problems.Errors(); len(errs) > 0 {
		return nil, problems
	}
	return set, nil
}

// ReadFiles reads every policy file at the root of fsys, named in
// problems as dir/name.
func ReadFiles(fsys fs.FS, dir string) ([]File, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("policies: read %s: %w", dir, err)
	}
	var files []File
	for _, e := range entries {
		if e.IsDir() || !IsPolicyFile(e.Name()) {
			continue
		}
		data, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("policies: read %s: %w", path.Join(dir, e.Name()), err)
		}
		files = append(files, File{Name: path.Join(dir, e.Name()), Data: data})
	}
	return files, nil
}

// IsPolicyFile reports whether a file name looks like a policy: YAML, and
// not hidden (editors and atomic saves use hidden temporary files).
func IsPolicyFile(name string) bool {
	base := path.Base(name)
	return !strings.HasPrefix(base, ".") && (strings.HasSuffix(base, ".yaml") || strings.HasSuffix(base, ".yml"))
}

// Check decodes, validates and lints files as one set and reports every
// problem found. The Set is nil when any problem is an error.
func Check(files []File) (*Set, Problems) {
	return CheckAsOf(files, Date{})
}

// CheckAsOf is Check that also warns about sources checked longer ago
// than their policy's review_every before today; the zero today skips it.
func CheckAsOf(files []File, today Date) (*Set, Problems) {
	var all Problems
	set := &Set{byID: map[string]*Policy{}}
	prefixes := map[string]string{}
	for _, f := range files {
		p, problems := checkFile(f, today)
		all = append(all, problems...)
		if p == nil {
			continue
		}
		c := newChecker(f, nil)
		if other, dup := set.byID[p.ID]; dup {
			c.errorf(keyPath{"id"}, "policy id %q is already used by %s", p.ID, other.File)
		} else {
			set.byID[p.ID] = p
			set.ids = append(set.ids, p.ID)
		}
		if other, dup := prefixes[p.CasePrefix]; dup && p.CasePrefix != "" {
			c.errorf(keyPath{"case_prefix"}, "case_prefix %q is already used by %s", p.CasePrefix, other)
		}
		prefixes[p.CasePrefix] = f.Name
		all = append(all, c.problems...)
	}
	all.sort()
	if len(all.Errors()) > 0 {
		return nil, all
	}
	sort.Strings(set.ids)
	set.warnings, set.confirms = all.Warnings(), all.Confirms()
	return set, all
}

// checkFile decodes one file strictly, then validates and lints it. The
// policy is nil when the file could not be decoded or has errors.
func checkFile(f File, today Date) (*Policy, Problems) {
	c := newChecker(f, nil)
	if c.tabIndents() {
		return nil, c.problems
	}
	tree, err := parser.ParseBytes(f.Data, 0)
	if err != nil {
		c.yamlError(err)
		return nil, c.problems
	}
	c.tree = tree
	if len(tree.Docs) != 1 || tree.Docs[0].Body == nil {
		c.problems = append(c.problems, c.problem(Error, 1, 1, "want exactly one YAML document holding one policy"))
		return nil, c.problems
	}
	var p Policy
	if !c.decode(tree.Docs[0].Body, reflect.ValueOf(&p).Elem(), nil) {
		// Aliases or merge keys: the strict decoder follows them, and
		// stops at the first mistake.
		c.problems, p = nil, Policy{}
		if err := yaml.NodeToValue(tree.Docs[0].Body, &p, yaml.Strict()); err != nil {
			c.yamlError(err)
			return nil, c.problems
		}
	}
	p.File = f.Name
	sum := sha256.Sum256(f.Data)
	p.Version = hex.EncodeToString(sum[:6])
	c.validate(&p)
	c.lint(&p)
	if len(c.problems.Errors()) > 0 {
		return nil, c.problems
	}
	clock, err := NewClock(p.Country, p.TimeZone, p.Calendar)
	if err != nil { // validate has reported it; kept for safety
		c.errorf(keyPath{"country"}, "%v", err)
		return nil, c.problems
	}
	p.clock = clock
	if !today.IsZero() {
		c.stale(&p, today)
	}
	for _, s := range p.Steps {
		if s.Country == "" || s.Country == p.Country || p.bodyClocks[s.Country] != nil {
			continue
		}
		bc, err := NewClock(s.Country, countryZone[s.Country], CalendarOptions{})
		if err != nil { // validate has reported it
			return nil, c.problems
		}
		if p.bodyClocks == nil {
			p.bodyClocks = map[string]*Clock{}
		}
		p.bodyClocks[s.Country] = bc
	}
	return &p, c.problems
}

// checker collects the problems of one file, placing each at its line and
// column.
type checker struct {
	file     File
	tree     *ast.File
	lines    []string
	problems Problems
	// undecoded are the places decode could not read: a check of what
	// holds them would only repeat the problem already reported.
	undecoded []keyPath
}

func newChecker(f File, tree *ast.File) *checker {
	return &checker{file: f, tree: tree, lines: strings.Split(string(f.Data), "\n")}
}

func (c *checker) errorf(at keyPath, format string, args ...any) {
	c.add(Error, at, format, args...)
}

func (c *checker) warnf(at keyPath, format string, args ...any) {
	c.add(Warning, at, format, args...)
}

func (c *checker) add(sev Severity, at keyPath, format string, args ...any) {
	for _, u := range c.undecoded {
		if len(u) >= len(at) && u[:len(at)].String() == at.String() {
			return
		}
	}
	line, col := c.locate(at)
	msg := fmt.Sprintf(format, args...)
	if len(at) > 0 {
		msg = at.String() + ": " + msg
	}
	c.problems = append(c.problems, c.problem(sev, line, col, msg))
}

func (c *checker) problem(sev Severity, line, col int, msg string) Problem {
	p := Problem{File: c.file.Name, Line: line, Column: col, Severity: sev, Message: msg}
	if line >= 1 && line <= len(c.lines) {
		p.Source = strings.TrimRight(c.lines[line-1], "\r")
	}
	return p
}

// tabIndents reports every line indented with a tab, which YAML forbids
// and the parser reports in its own words; it returns whether any was.
func (c *checker) tabIndents() bool {
	found := false
	for i, line := range c.lines {
		indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
		if col := strings.IndexByte(indent, '\t'); col >= 0 && strings.TrimSpace(line) != "" {
			c.problems = append(c.problems, c.problem(Error, i+1, col+1, "indented with a tab: YAML allows only spaces for indentation (set your editor to insert spaces)"))
			found = true
		}
	}
	return found
}

// yamlError turns a decoding error into a problem at its token.
func (c *checker) yamlError(err error) {
	var yerr yaml.Error
	if errors.As(err, &yerr) && yerr.GetToken() != nil {
		pos := yerr.GetToken().Position
		c.problems = append(c.problems, c.problem(Error, pos.Line, pos.Column, yerr.GetMessage()))
		return
	}
	c.problems = append(c.problems, c.problem(Error, 0, 0, err.Error()))
}

// locate finds the line and column of a path in the file: the key that
// names the last segment found, or the sequence item. A path that does not
// exist (a missing key) resolves to its nearest existing parent.
func (c *checker) locate(at keyPath) (line, col int) {
	if c.tree == nil || len(c.tree.Docs) == 0 {
		return 0, 0
	}
	node := c.tree.Docs[0].Body
	if node != nil {
		pos := node.GetToken().Position
		line, col = pos.Line, pos.Column
	}
	for _, seg := range at {
		switch seg := seg.(type) {
		case string:
			mv := mappingValue(node, seg)
			if mv == nil {
				return line, col
			}
			pos := mv.Key.GetToken().Position
			line, col = pos.Line, pos.Column
			node = mv.Value
			if isScalar(node) { // point at the offending value itself
				pos := node.GetToken().Position
				line, col = pos.Line, pos.Column
			}
		case int:
			seq, ok := node.(*ast.SequenceNode)
			if !ok || seg >= len(seq.Values) {
				return line, col
			}
			node = seq.Values[seg]
			pos := node.GetToken().Position
			line, col = pos.Line, pos.Column
		}
	}
	return line, col
}

func isScalar(node ast.Node) bool {
	switch node.(type) {
	case nil, *ast.MappingNode, *ast.MappingValueNode, *ast.SequenceNode:
		return false
	}
	return node.GetToken() != nil
}

func mappingValue(node ast.Node, key string) *ast.MappingValueNode {
	var values []*ast.MappingValueNode
	switch n := node.(type) {
	case *ast.MappingNode:
		values = n.Values
	case *ast.MappingValueNode:
		values = []*ast.MappingValueNode{n}
	}
	for _, mv := range values {
		if mv.Key != nil && mv.Key.GetToken() != nil && mv.Key.GetToken().Value == key {
			return mv
		}
	}
	return nil
}

// keyPath addresses a value in a policy file: string keys and int indexes.
type keyPath []any

func (p keyPath) key(k string) keyPath { return append(p[:len(p):len(p)], k) }
func (p keyPath) index(i int) keyPath  { return append(p[:len(p):len(p)], i) }

// String is the path as policy owners write it: steps[2].deadlines[0].period.
func (p keyPath) String() string {
	var b strings.Builder
	for _, seg := range p {
		switch seg := seg.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(seg)
		case int:
			b.WriteString("[" + strconv.Itoa(seg) + "]")
		}
	}
	return b.String()
}

//go:embed policy.schema.json
var schema []byte

// Schema is the JSON Schema of the policy format, for editors
// (yaml-language-server) and for tools.
func Schema() []byte { return append([]byte(nil), schema...) }
