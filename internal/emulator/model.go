package emulator

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// modelJSON is the Smithy JSON AST of Amazon Connect Cases. Routes, input
// constraints and error shapes are read from it at start-up so that the
// emulator cannot drift from the published model.
//
//go:embed testdata/connectcases.json
var modelJSON []byte

// modelNamespace prefixes every shape id of the Connect Cases model.
const modelNamespace = "com.amazonaws.connectcases#"

// rawModel is the subset of the Smithy JSON AST the emulator reads.
type rawModel struct {
	Shapes map[string]rawShape `json:"shapes"`
}

// rawShape is one shape of the Smithy JSON AST.
type rawShape struct {
	Type    string                     `json:"type"`
	Members map[string]rawMember       `json:"members"`
	Member  *rawMember                 `json:"member"`
	Key     *rawMember                 `json:"key"`
	Value   *rawMember                 `json:"value"`
	Traits  map[string]json.RawMessage `json:"traits"`
	Input   *rawMember                 `json:"input"`
	Errors  []rawMember                `json:"errors"`
}

// rawMember is a member or target reference of the Smithy JSON AST.
type rawMember struct {
	Target string                     `json:"target"`
	Traits map[string]json.RawMessage `json:"traits"`
}

// shape is a compiled Smithy shape: its kind and, for aggregates, its members.
type shape struct {
	id      string
	kind    string
	members map[string]*member
	elem    *member
	key     *member
	value   *member
	sparse  bool
	traits  constraints
	errCode string
	status  int
}

// member is a compiled structure, union, list or map member. Its constraints
// merge the target shape's traits with the member's own, the member winning.
type member struct {
	name     string
	target   *shape
	c        constraints
	location string // "body", "label", "query" or "header"
	locName  string
}

// constraints are the validation traits of a member or shape.
type constraints struct {
	required   bool
	sensitive  bool
	minLen     *int64
	maxLen     *int64
	min        *float64
	max        *float64
	patternSrc string
	pattern    *pattern
	enum       []string
}

// modelOperation is an operation's HTTP binding and input shape.
type modelOperation struct {
	name   string
	method string
	uri    string
	input  *shape
	errors []string
}

// serviceModel is the compiled model: operations by name, shapes by id.
type serviceModel struct {
	operations map[string]*modelOperation
	shapes     map[string]*shape
}

// The model is compiled once per process and shared by every Server.
var (
	loadedModel    *serviceModel
	loadedModelErr error
	modelOnce      sync.Once
)

// getModel parses and compiles the embedded model once per process.
func getModel() (*serviceModel, error) {
	modelOnce.Do(func() {
		loadedModel, loadedModelErr = compileModel(modelJSON)
	})
	return loadedModel, loadedModelErr
}

// compileModel compiles every operation of a Smithy JSON AST.
func compileModel(data []byte) (*serviceModel, error) {
	var raw rawModel
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("failed to parse service model: %w", err)
	}
	c := &modelCompiler{raw: raw.Shapes, shapes: map[string]*shape{}}
	m := &serviceModel{operations: map[string]*modelOperation{}, shapes: c.shapes}
	ids := make([]string, 0, len(raw.Shapes))
	for id := range raw.Shapes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		rs := raw.Shapes[id]
		if rs.Type != "operation" {
			continue
		}
		op, err := c.operation(id, rs)
		if err != nil {
			return nil, err
		}
		m.operations[op.name] = op
	}
	return m, nil
}

// modelCompiler turns raw shapes into compiled ones, memoising so that
// recursive shapes (CaseFilter) compile to a cyclic graph.
type modelCompiler struct {
	raw    map[string]rawShape
	shapes map[string]*shape
}

// operation compiles one operation shape.
func (c *modelCompiler) operation(id string, rs rawShape) (*modelOperation, error) {
	op := &modelOperation{name: strings.TrimPrefix(id, modelNamespace)}
	var binding struct {
		Method string `json:"method"`
		URI    string `json:"uri"`
	}
	if t, ok := rs.Traits["smithy.api#http"]; ok {
		if err := json.Unmarshal(t, &binding); err != nil {
			return nil, fmt.Errorf("failed to read http trait of %s: %w", op.name, err)
		}
	}
	op.method, op.uri = binding.Method, binding.URI
	if rs.Input != nil {
		in, err := c.shape(rs.Input.Target)
		if err != nil {
			return nil, fmt.Errorf("failed to compile input of %s: %w", op.name, err)
		}
		op.input = in
	}
	for _, e := range rs.Errors {
		es, err := c.shape(e.Target)
		if err != nil {
			return nil, fmt.Errorf("failed to compile error of %s: %w", op.name, err)
		}
		op.errors = append(op.errors, es.errCode)
	}
	return op, nil
}

// preludeKinds maps Smithy prelude shape ids to their kind.
var preludeKinds = map[string]string{
	"smithy.api#String": "string", "smithy.api#Boolean": "boolean", "smithy.api#PrimitiveBoolean": "boolean",
	"smithy.api#Integer": "integer", "smithy.api#PrimitiveInteger": "integer", "smithy.api#Long": "long",
	"smithy.api#PrimitiveLong": "long", "smithy.api#Short": "short", "smithy.api#Byte": "byte",
	"smithy.api#Float": "float", "smithy.api#PrimitiveFloat": "float", "smithy.api#Double": "double",
	"smithy.api#PrimitiveDouble": "double", "smithy.api#Timestamp": "timestamp", "smithy.api#Document": "document",
	"smithy.api#Blob": "blob", "smithy.api#BigInteger": "bigInteger", "smithy.api#BigDecimal": "bigDecimal",
	"smithy.api#Unit": "structure",
}

// shape compiles the shape with the given id.
func (c *modelCompiler) shape(id string) (*shape, error) {
	if s, ok := c.shapes[id]; ok {
		return s, nil
	}
	if kind, ok := preludeKinds[id]; ok {
		s := &shape{id: id, kind: kind}
		c.shapes[id] = s
		return s, nil
	}
	rs, ok := c.raw[id]
	if !ok {
		return nil, fmt.Errorf("shape %q is not in the model", id)
	}
	s := &shape{id: id, kind: rs.Type}
	c.shapes[id] = s
	traits, err := readConstraints(rs.Traits, constraints{})
	if err != nil {
		return nil, fmt.Errorf("failed to read traits of %s: %w", id, err)
	}
	s.traits = traits
	_, s.sparse = rs.Traits["smithy.api#sparse"]
	if _, isErr := rs.Traits["smithy.api#error"]; isErr {
		s.errCode = strings.TrimPrefix(id, modelNamespace)
		if t, ok := rs.Traits["smithy.api#httpError"]; ok {
			if err := json.Unmarshal(t, &s.status); err != nil {
				return nil, fmt.Errorf("failed to read httpError of %s: %w", id, err)
			}
		}
	}
	if rs.Type == "enum" {
		// A Smithy 2.0 enum shape is a string restricted to its members' values.
		s.kind = "string"
		for name, rm := range rs.Members {
			v := name
			if t, ok := rm.Traits["smithy.api#enumValue"]; ok {
				if err := json.Unmarshal(t, &v); err != nil {
					return nil, fmt.Errorf("failed to read enum value %s of %s: %w", name, id, err)
				}
			}
			s.traits.enum = append(s.traits.enum, v)
		}
		sort.Strings(s.traits.enum)
		return s, nil
	}
	if len(rs.Members) > 0 {
		s.members = map[string]*member{}
		for name, rm := range rs.Members {
			m, err := c.member(name, rm)
			if err != nil {
				return nil, fmt.Errorf("failed to compile member %s of %s: %w", name, id, err)
			}
			s.members[name] = m
		}
	}
	for _, ref := range []struct {
		raw *rawMember
		dst **member
		nm  string
	}{{rs.Member, &s.elem, "member"}, {rs.Key, &s.key, "key"}, {rs.Value, &s.value, "value"}} {
		if ref.raw == nil {
			continue
		}
		m, err := c.member(ref.nm, *ref.raw)
		if err != nil {
			return nil, fmt.Errorf("failed to compile %s of %s: %w", ref.nm, id, err)
		}
		*ref.dst = m
	}
	return s, nil
}

// member compiles one member, merging its traits over its target's.
func (c *modelCompiler) member(name string, rm rawMember) (*member, error) {
	target, err := c.shape(rm.Target)
	if err != nil {
		return nil, err
	}
	merged, err := readConstraints(rm.Traits, target.traits)
	if err != nil {
		return nil, err
	}
	merged.required = hasTrait(rm.Traits, "smithy.api#required")
	m := &member{name: name, target: target, c: merged, location: "body", locName: name}
	switch {
	case hasTrait(rm.Traits, "smithy.api#httpLabel"):
		m.location = "label"
	case hasTrait(rm.Traits, "smithy.api#httpQuery"):
		m.location = "query"
		if err := json.Unmarshal(rm.Traits["smithy.api#httpQuery"], &m.locName); err != nil {
			return nil, err
		}
	case hasTrait(rm.Traits, "smithy.api#httpHeader"):
		m.location = "header"
		if err := json.Unmarshal(rm.Traits["smithy.api#httpHeader"], &m.locName); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// hasTrait reports whether traits holds the named trait.
func hasTrait(traits map[string]json.RawMessage, name string) bool {
	_, ok := traits[name]
	return ok
}

// readConstraints overlays the validation traits found in traits on base.
func readConstraints(traits map[string]json.RawMessage, base constraints) (constraints, error) {
	c := base
	if t, ok := traits["smithy.api#length"]; ok {
		var l struct{ Min, Max *int64 }
		if err := json.Unmarshal(t, &l); err != nil {
			return c, fmt.Errorf("invalid length trait: %w", err)
		}
		c.minLen, c.maxLen = l.Min, l.Max
	}
	if t, ok := traits["smithy.api#range"]; ok {
		var r struct{ Min, Max *float64 }
		if err := json.Unmarshal(t, &r); err != nil {
			return c, fmt.Errorf("invalid range trait: %w", err)
		}
		c.min, c.max = r.Min, r.Max
	}
	if t, ok := traits["smithy.api#pattern"]; ok {
		if err := json.Unmarshal(t, &c.patternSrc); err != nil {
			return c, fmt.Errorf("invalid pattern trait: %w", err)
		}
		p, err := compilePattern(c.patternSrc)
		if err != nil {
			return c, err
		}
		c.pattern = p
	}
	if t, ok := traits["smithy.api#enum"]; ok {
		var defs []struct{ Value string }
		if err := json.Unmarshal(t, &defs); err != nil {
			return c, fmt.Errorf("invalid enum trait: %w", err)
		}
		c.enum = nil
		for _, d := range defs {
			c.enum = append(c.enum, d.Value)
		}
	}
	if hasTrait(traits, "smithy.api#sensitive") {
		c.sensitive = true
	}
	return c, nil
}
