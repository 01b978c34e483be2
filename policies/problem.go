package policies

import (
	"fmt"
	"sort"
	"strings"
)

// Severity says whether a problem blocks a policy from being used.
type Severity int

const (
	// Error blocks the policy set: it never reaches a consumer.
	Error Severity = iota
	// Warning is reported but does not block.
	Warning
	// Confirm is a fact a person must still confirm (a source's confirm):
	// listed, never blocking.
	Confirm
)

// Problem is one thing wrong, or doubtful, in a policy file.
type Problem struct {
	File     string
	Line     int // 1-based; 0 when unknown
	Column   int // 1-based; 0 when unknown
	Severity Severity
	Message  string
	// Source is the offending line of the file, when known.
	Source string
}

// String formats the problem as file:line:col: message, the form editors and
// CI logs link to.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", p.Line, p.Column)
	}
	b.WriteString(": ")
	switch p.Severity {
	case Warning:
		b.WriteString("warning: ")
	case Confirm:
		b.WriteString("to confirm: ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Excerpt is the offending line with a caret under the column, or "" when
// the line is unknown.
func (p Problem) Excerpt() string {
	if p.Source == "" {
		return ""
	}
	prefix := []rune(p.Source)
	if p.Column >= 1 && p.Column-1 < len(prefix) {
		prefix = prefix[:p.Column-1]
	}
	pad := make([]rune, len(prefix))
	for i, r := range prefix {
		pad[i] = ' '
		if r == '\t' {
			pad[i] = '\t'
		}
	}
	gutter := strings.Repeat(" ", len(fmt.Sprint(p.Line)))
	return fmt.Sprintf("    %d | %s\n    %s | %s^", p.Line, p.Source, gutter, string(pad))
}

// Problems is a list of problems. As an error it lists the blocking ones.
type Problems []Problem

// Error lists every blocking problem, one per line.
func (ps Problems) Error() string {
	var lines []string
	for _, p := range ps.Errors() {
		lines = append(lines, p.String())
	}
	return strings.Join(lines, "\n")
}

// Errors are the problems that block.
func (ps Problems) Errors() Problems { return ps.filter(Error) }

// Confirms are the facts a person must still confirm.
func (ps Problems) Confirms() Problems { return ps.filter(Confirm) }

// Warnings are the problems that do not block.
func (ps Problems) Warnings() Problems { return ps.filter(Warning) }

func (ps Problems) filter(s Severity) Problems {
	var out Problems
	for _, p := range ps {
		if p.Severity == s {
			out = append(out, p)
		}
	}
	return out
}

// sort orders problems by file, then position, so reports read top to bottom.
func (ps Problems) sort() {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}
