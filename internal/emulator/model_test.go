package emulator

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// refModel is the model read straight from testdata, independently of the
// emulator's compiler, so that the tests compare the emulator against the
// file and not against itself.
type refModel struct {
	Shapes map[string]refShape `json:"shapes"`
}

type refShape struct {
	Type    string               `json:"type"`
	Members map[string]refMember `json:"members"`
	Member  *refMember           `json:"member"`
	Key     *refMember           `json:"key"`
	Value   *refMember           `json:"value"`
	Input   *refMember           `json:"input"`
	Traits  map[string]any       `json:"traits"`
}

type refMember struct {
	Target string         `json:"target"`
	Traits map[string]any `json:"traits"`
}

func loadRefModel(t *testing.T) refModel {
	t.Helper()
	data, err := os.ReadFile("testdata/connectcases.json")
	if err != nil {
		t.Fatalf("failed to read model: %v", err)
	}
	var m refModel
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("failed to parse model: %v", err)
	}
	return m
}

// refHTTP returns the method and URI of an operation's smithy.api#http trait.
func (m refModel) refHTTP(op string) (string, string) {
	h, _ := m.Shapes[modelNamespace+op].Traits["smithy.api#http"].(map[string]any)
	method, _ := h["method"].(string)
	uri, _ := h["uri"].(string)
	return method, uri
}

func TestRoutesMatchModel(t *testing.T) {
	ref := loadRefModel(t)
	// The bindings the operator relies on, as the issue states them.
	stated := map[string]string{
		"UpdateCase":           "PUT /domains/{domainId}/cases/{caseId}",
		"GetCase":              "POST /domains/{domainId}/cases/{caseId}",
		"CreateCase":           "POST /domains/{domainId}/cases",
		"SearchCases":          "POST /domains/{domainId}/cases-search",
		"CreateDomain":         "POST /domains",
		"GetDomain":            "POST /domains/{domainId}",
		"ListDomains":          "POST /domains-list",
		"CreateField":          "POST /domains/{domainId}/fields",
		"ListFields":           "POST /domains/{domainId}/fields-list",
		"BatchGetField":        "POST /domains/{domainId}/fields-batch",
		"BatchPutFieldOptions": "PUT /domains/{domainId}/fields/{fieldId}/options",
		"ListFieldOptions":     "POST /domains/{domainId}/fields/{fieldId}/options-list",
		"CreateTemplate":       "POST /domains/{domainId}/templates",
	}
	g := NewWithT(t)
	g.Expect(Operations()).To(ConsistOf(keysOf(stated)))

	for _, op := range Operations() {
		t.Run(op, func(t *testing.T) {
			g := NewWithT(t)
			method, uri := ref.refHTTP(op)
			g.Expect(method + " " + uri).To(Equal(stated[op]))

			// A request at the model's path reaches the operation.
			e := newEnv(t)
			path := strings.NewReplacer("{domainId}", "d1", "{caseId}", "c1", "{fieldId}", "priority").Replace(uri)
			resp, _ := e.raw(t, method, path, "{}")
			g.Expect(resp.Header.Get("X-Amzn-ErrorType")).NotTo(Equal("UnknownOperationException"))
			calls := e.srv.Calls().Recent
			g.Expect(calls).To(HaveLen(1))
			g.Expect(calls[0].Operation).To(Equal(op))
		})
	}
}

func keysOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// refConstraints are the validation traits of a member as the model states
// them, member traits over target traits.
type refConstraints struct {
	Required bool
	MinLen   *int64
	MaxLen   *int64
	Min      *float64
	Max      *float64
	Pattern  string
	Enum     []string
}

func readRefConstraints(target, member map[string]any) refConstraints {
	var c refConstraints
	for _, traits := range []map[string]any{target, member} {
		if l, ok := traits["smithy.api#length"].(map[string]any); ok {
			c.MinLen, c.MaxLen = intPtr(l["min"]), intPtr(l["max"])
		}
		if r, ok := traits["smithy.api#range"].(map[string]any); ok {
			c.Min, c.Max = floatPtr(r["min"]), floatPtr(r["max"])
		}
		if p, ok := traits["smithy.api#pattern"].(string); ok {
			c.Pattern = p
		}
		if e, ok := traits["smithy.api#enum"].([]any); ok {
			c.Enum = nil
			for _, d := range e {
				c.Enum = append(c.Enum, d.(map[string]any)["value"].(string))
			}
		}
	}
	_, c.Required = member["smithy.api#required"]
	return c
}

func intPtr(v any) *int64 {
	if f, ok := v.(float64); ok {
		i := int64(f)
		return &i
	}
	return nil
}

func floatPtr(v any) *float64 {
	if f, ok := v.(float64); ok {
		return &f
	}
	return nil
}

func enforced(c constraints) refConstraints {
	return refConstraints{Required: c.required, MinLen: c.minLen, MaxLen: c.maxLen, Min: c.min, Max: c.max, Pattern: c.patternSrc, Enum: c.enum}
}

// TestEnforcedConstraintsAreTheModels walks the input of every served
// operation in the file and in the emulator side by side, and checks that
// every member carries exactly the model's constraints.
func TestEnforcedConstraintsAreTheModels(t *testing.T) {
	ref := loadRefModel(t)
	m, err := getModel()
	if err != nil {
		t.Fatalf("failed to compile model: %v", err)
	}
	checked := 0
	for _, op := range Operations() {
		t.Run(op, func(t *testing.T) {
			g := NewWithT(t)
			in := ref.Shapes[modelNamespace+op].Input
			g.Expect(in).NotTo(BeNil())
			visited := map[string]bool{}
			var walk func(path string, rs refShape, cs *shape)
			walk = func(path string, rs refShape, cs *shape) {
				pairs := map[string]*refMember{}
				compiled := map[string]*member{}
				for name, rm := range rs.Members {
					pairs[name] = &rm
					compiled[name] = cs.members[name]
				}
				for _, el := range []struct {
					name string
					ref  *refMember
					c    *member
				}{{"member", rs.Member, cs.elem}, {"key", rs.Key, cs.key}, {"value", rs.Value, cs.value}} {
					if el.ref != nil {
						pairs[el.name], compiled[el.name] = el.ref, el.c
					}
				}
				for name, rm := range pairs {
					p := path + "." + name
					cm := compiled[name]
					g.Expect(cm).NotTo(BeNil(), "member %s is compiled", p)
					target := ref.Shapes[rm.Target]
					want := readRefConstraints(target.Traits, rm.Traits)
					g.Expect(enforced(cm.c)).To(Equal(want), "constraints of %s", p)
					checked++
					if !visited[rm.Target] && strings.HasPrefix(rm.Target, modelNamespace) {
						visited[rm.Target] = true
						walk(p, target, cm.target)
					}
				}
			}
			walk(op, ref.Shapes[in.Target], m.operations[op].input)
		})
	}
	if checked < 100 {
		t.Errorf("checked only %d members; the walk is broken", checked)
	}
}

// TestStatedLimitsAreTheModels pins the limits the operator depends on: the
// model must state them, and the emulator must enforce that value.
func TestStatedLimitsAreTheModels(t *testing.T) {
	m, err := getModel()
	if err != nil {
		t.Fatalf("failed to compile model: %v", err)
	}
	i := func(v int64) *int64 { return &v }
	f := func(v float64) *float64 { return &v }
	tests := map[string]struct {
		path           []string
		minLen, maxLen *int64
		min, max       *float64
	}{
		"UpdateCase fields":             {path: []string{"UpdateCase", "fields"}, maxLen: i(220)},
		"UpdateCase stringValue":        {path: []string{"UpdateCase", "fields", "member", "value", "stringValue"}, maxLen: i(4100)},
		"UpdateCase field id":           {path: []string{"UpdateCase", "fields", "member", "id"}, minLen: i(1), maxLen: i(500)},
		"UpdateCase case id":            {path: []string{"UpdateCase", "caseId"}, minLen: i(1), maxLen: i(500)},
		"UpdateCase domain id":          {path: []string{"UpdateCase", "domainId"}, minLen: i(1), maxLen: i(500)},
		"GetCase fields":                {path: []string{"GetCase", "fields"}, minLen: i(1), maxLen: i(220)},
		"BatchGetField fields":          {path: []string{"BatchGetField", "fields"}, minLen: i(1), maxLen: i(50)},
		"CreateField name":              {path: []string{"CreateField", "name"}, minLen: i(1), maxLen: i(100)},
		"ListDomains maxResults":        {path: []string{"ListDomains", "maxResults"}, min: f(1), max: f(10)},
		"ListFields maxResults":         {path: []string{"ListFields", "maxResults"}, min: f(1), max: f(100)},
		"BatchPutFieldOptions options":  {path: []string{"BatchPutFieldOptions", "options"}, maxLen: i(50)},
		"CreateTemplate requiredFields": {path: []string{"CreateTemplate", "requiredFields"}, maxLen: i(100)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			mem := lookupMember(m, tc.path)
			g.Expect(mem).NotTo(BeNil())
			g.Expect(mem.c.minLen).To(Equal(tc.minLen))
			g.Expect(mem.c.maxLen).To(Equal(tc.maxLen))
			g.Expect(mem.c.min).To(Equal(tc.min))
			g.Expect(mem.c.max).To(Equal(tc.max))
		})
	}
}

// lookupMember follows an operation name and member names to a compiled
// member; "member" steps into a list.
func lookupMember(m *serviceModel, path []string) *member {
	s := m.operations[path[0]].input
	var cur *member
	for _, name := range path[1:] {
		if name == "member" {
			cur = s.elem
		} else {
			cur = s.members[name]
		}
		if cur == nil {
			return nil
		}
		s = cur.target
	}
	return cur
}

func TestUpdateCaseAcceptsExactly220Fields(t *testing.T) {
	g := NewWithT(t)
	seed := &Seed{Domains: []SeedDomain{{ID: "wide", Name: "Wide"}}}
	for n := range 221 {
		seed.Domains[0].Fields = append(seed.Domains[0].Fields, SeedField{ID: fmt.Sprintf("f%d", n), Name: fmt.Sprintf("F%d", n), Type: "Text"})
	}
	seed.Domains[0].Templates = []SeedTemplate{{ID: "t", Name: "T"}}
	seed.Domains[0].Cases = []SeedCase{{ID: "c", TemplateID: "t"}}
	e := newEnv(t, func(o *Options) { o.Seed = seed })

	resp, _ := e.raw(t, "PUT", "/domains/wide/cases/c", fieldsBody(220, `{"stringValue":"x"}`))
	g.Expect(resp.StatusCode).To(Equal(200))
	stored, _ := e.srv.CaseFields("wide", "c")
	g.Expect(stored).To(HaveLen(220))

	resp, _ = e.raw(t, "PUT", "/domains/wide/cases/c", fieldsBody(221, `{"stringValue":"y"}`))
	g.Expect(resp.StatusCode).To(Equal(400))
	resp, _ = e.raw(t, "POST", "/domains/wide/cases/c", idsBody(220))
	g.Expect(resp.StatusCode).To(Equal(200))
}

func TestPatternWithLookahead(t *testing.T) {
	tests := map[string]struct {
		value string
		want  bool
	}{
		"plain key":          {"team", true},
		"reserved prefix":    {"aws:team", false},
		"reserved any case":  {"AwS:team", false},
		"prefix not at head": {"x-aws:team", true},
		"bad character":      {"team!", false},
	}
	p, err := compilePattern(`^(?![aA][wW][sS]:)[a-zA-Z0-9 _.:/=+\-@]+$`)
	if err != nil {
		t.Fatalf("failed to compile: %v", err)
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			NewWithT(t).Expect(p.MatchString(tc.value)).To(Equal(tc.want))
		})
	}
}
