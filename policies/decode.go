package policies

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// A strict YAML decoder stops at the first unknown key or mistyped value,
// so a policy owner would fix one mistake per run. decode walks the syntax
// tree against the policy's types instead, and reports every such mistake
// at its line and column, with the known key an unknown one was probably
// meant to be; the value is then decoded as far as it is right, so that
// validation can report the rest.

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// decode fills v from node and reports each problem on the way. It
// reports false when the tree uses YAML features it does not follow
// (aliases, merge keys): the caller then decodes strictly.
func (c *checker) decode(node ast.Node, v reflect.Value, at keyPath) bool {
	node = unwrap(node)
	if node == nil || node.Type() == ast.NullType {
		return true // absent: the zero value, which validation judges
	}
	if node.Type() == ast.AliasType {
		return false
	}
	t := v.Type()
	switch {
	case reflect.PointerTo(t).Implements(textUnmarshaler) || t.Kind() == reflect.Map ||
		(t.Kind() != reflect.Struct && t.Kind() != reflect.Slice && t.Kind() != reflect.Pointer):
		return c.decodeValue(node, v, at)
	case t.Kind() == reflect.Pointer:
		elem := reflect.New(t.Elem())
		if !c.decode(node, elem.Elem(), at) {
			return false
		}
		v.Set(elem)
		return true
	case t.Kind() == reflect.Slice:
		return c.decodeList(node, v, at)
	}
	return c.decodeStruct(node, v, at)
}

// decodeList decodes a YAML sequence into a slice, item by item.
func (c *checker) decodeList(node ast.Node, v reflect.Value, at keyPath) bool {
	seq, ok := node.(*ast.SequenceNode)
	if !ok {
		c.errorAt(node, at, "want a list (items starting with \"- \")")
		return true
	}
	list := reflect.MakeSlice(v.Type(), len(seq.Values), len(seq.Values))
	for i, item := range seq.Values {
		if !c.decode(item, list.Index(i), at.index(i)) {
			return false
		}
	}
	v.Set(list)
	return true
}

// decodeStruct decodes a YAML mapping into a struct, each key a field; an
// unknown key is reported with the nearest known one.
func (c *checker) decodeStruct(node ast.Node, v reflect.Value, at keyPath) bool {
	var values []*ast.MappingValueNode
	switch n := node.(type) {
	case *ast.MappingNode:
		values = n.Values
	case *ast.MappingValueNode:
		values = []*ast.MappingValueNode{n}
	default:
		c.errorAt(node, at, "want a mapping of keys and values")
		return true
	}
	fields := yamlFields(v.Type())
	for _, mv := range values {
		if mv.Key == nil || mv.Key.GetToken() == nil {
			continue
		}
		key := mv.Key.GetToken().Value
		if key == "<<" {
			return false
		}
		i, known := fields[key]
		if !known {
			c.unknownKey(mv, key, fields, at)
			continue
		}
		if !c.decode(mv.Value, v.Field(i), at.key(key)) {
			return false
		}
	}
	return true
}

// unknownKey reports a key the struct has no field for.
func (c *checker) unknownKey(mv *ast.MappingValueNode, key string, fields map[string]int, at keyPath) {
	pos := mv.Key.GetToken().Position
	msg := fmt.Sprintf("unknown key %q", key)
	if near := nearest(key, fields); near != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", near)
	}
	if len(at) > 0 {
		msg = at.String() + ": " + msg
	}
	c.problems = append(c.problems, c.problem(Error, pos.Line, pos.Column, msg))
	c.undecoded = append(c.undecoded, at.key(key))
}

// decodeValue decodes a leaf (a string, number, date, or a text in
// several languages) strictly, and reports a mismatch at the value.
func (c *checker) decodeValue(node ast.Node, v reflect.Value, at keyPath) bool {
	t := v.Type()
	target := reflect.New(t)
	if err := yaml.NodeToValue(node, target.Interface(), yaml.Strict()); err != nil {
		var yerr yaml.Error
		if errors.As(err, &yerr) && yerr.GetToken() != nil && t.Kind() == reflect.Map {
			node = ast.String(yerr.GetToken()) // point at the text that is wrong

		}
		c.errorAt(node, at, "%s", typeMismatch(t, node, err))
		return true
	}
	v.Set(target.Elem())
	return true
}

// typeMismatch says in a policy owner's words what kind of value was
// wanted where another was given.
func typeMismatch(t reflect.Type, node ast.Node, err error) string {
	got := strings.TrimSpace(node.String())
	switch {
	case reflect.PointerTo(t).Implements(textUnmarshaler):
		return strings.TrimPrefix(err.Error(), "parse date ")
	case t.Kind() == reflect.Int:
		return fmt.Sprintf("want a whole number, got %s", got)
	case t.Kind() == reflect.Bool:
		return fmt.Sprintf("want true or false, got %s", got)
	case t.Kind() == reflect.String:
		return fmt.Sprintf("want a text, got %s", got)
	case t.Kind() == reflect.Map:
		return "want one text per language, such as:  sv: \"...\"  en: \"...\""
	}
	var yerr yaml.Error
	if errors.As(err, &yerr) {
		return yerr.GetMessage()
	}
	return err.Error()
}

func (c *checker) errorAt(node ast.Node, at keyPath, format string, args ...any) {
	c.undecoded = append(c.undecoded, at)
	pos := node.GetToken().Position
	msg := fmt.Sprintf(format, args...)
	if len(at) > 0 {
		msg = at.String() + ": " + msg
	}
	c.problems = append(c.problems, c.problem(Error, pos.Line, pos.Column, msg))
}

// unwrap looks through an anchor to the value it names, and through
// comments.
func unwrap(node ast.Node) ast.Node {
	for {
		switch n := node.(type) {
		case *ast.AnchorNode:
			node = n.Value
		case *ast.CommentGroupNode:
			return nil
		default:
			return node
		}
	}
}

// yamlFields maps a struct's YAML keys to its field indexes.
func yamlFields(t reflect.Type) map[string]int {
	out := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = i
	}
	return out
}

// nearest is the known key closest to key, if it is close enough to be
// a slip of the keyboard or a guess at the name.
func nearest(key string, known map[string]int) string {
	names := make([]string, 0, len(known))
	for k := range known {
		names = append(names, k)
	}
	sort.Strings(names)
	best, bestDist := "", 1<<30
	for _, k := range names {
		d := editDistance(strings.ToLower(key), k)
		if strings.Contains(k, strings.ToLower(key)) || strings.Contains(strings.ToLower(key), k) {
			d = min(d, 2)
		}
		if d < bestDist {
			best, bestDist = k, d
		}
	}
	if bestDist <= max(2, len(key)/3) {
		return best
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
