package policies

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("urn:ombud:policy.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("urn:ombud:policy.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// TestPoliciesMatchSchema validates every bundled policy, and the test
// policy, against the JSON Schema that editors use.
func TestPoliciesMatchSchema(t *testing.T) {
	sch := compileSchema(t)
	names, err := fs.Glob(Bundled(), "*.yaml")
	if err != nil || len(names) == 0 {
		t.Fatalf("no bundled policies: %v", err)
	}
	docs := map[string][]byte{"testdata/mini-se.yaml": []byte(readMini(t))}
	for _, n := range names {
		b, err := fs.ReadFile(Bundled(), n)
		if err != nil {
			t.Fatal(err)
		}
		docs[n] = b
	}
	for name, src := range docs {
		var v any
		if err := yaml.Unmarshal(src, &v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// Round-trip through JSON so numbers and maps have the types the
		// validator expects.
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("%s does not match the schema:\n%v", name, err)
		}
	}
}

func TestSchemaRejectsBrokenPolicy(t *testing.T) {
	sch := compileSchema(t)
	src := strings.Replace(readMini(t), "case_prefix: MINI", "case_prefix: MINI\nescalate: true", 1)
	src = strings.Replace(src, "period: {years: 1}", "period: {years: 1, hours: 3}", 1)
	var v any
	if err := yaml.Unmarshal([]byte(src), &v); err != nil {
		t.Fatal(err)
	}
	j, _ := json.Marshal(v)
	inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	err := sch.Validate(inst)
	if err == nil {
		t.Fatal("schema accepted an unknown key and a period with two units")
	}
	for _, want := range []string{"escalate", "maxProperties"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("schema error does not mention %q:\n%v", want, err)
		}
	}
}

// TestSchemaInStepWithTypes keeps the schema and the Go types in step: each
// struct has a $defs entry of the same name whose properties are exactly
// the struct's YAML keys, required exactly when the key is not omitempty.
func TestSchemaInStepWithTypes(t *testing.T) {
	var doc struct {
		Defs map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
			Required   []string                   `json:"required"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(Schema(), &doc); err != nil {
		t.Fatal(err)
	}
	seen := map[reflect.Type]bool{}
	var visit func(reflect.Type)
	visit = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] {
			return
		}
		seen[typ] = true
		def, ok := doc.Defs[typ.Name()]
		if !ok {
			t.Errorf("schema has no $defs/%s", typ.Name())
			return
		}
		var keys, required []string
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			keys = append(keys, name)
			if !strings.Contains(opts, "omitempty") {
				required = append(required, name)
			}
			visit(f.Type)
		}
		var props []string
		for k := range def.Properties {
			props = append(props, k)
		}
		sort.Strings(keys)
		sort.Strings(props)
		sort.Strings(required)
		gotRequired := slices.Sorted(slices.Values(def.Required))
		if !slices.Equal(keys, props) {
			t.Errorf("%s: Go keys %v, schema properties %v", typ.Name(), keys, props)
		}
		if !slices.Equal(required, gotRequired) {
			t.Errorf("%s: Go required (no omitempty) %v, schema required %v", typ.Name(), required, gotRequired)
		}
	}
	visit(reflect.TypeOf(Policy{}))
	if len(seen) < 10 {
		t.Errorf("visited only %d types; the walk is broken", len(seen))
	}
}
