package emulator

import (
	"encoding/json"
	"net/http"
	"testing"
)

// FuzzUpdateCaseRequest feeds arbitrary bodies through UpdateCase's decoding,
// model validation and semantics, and checks the invariants: no panic; a
// refusal is a 400 or 404 with a modelled or serialization code and leaves
// the case as it was; an accepted call stores exactly the values sent.
func FuzzUpdateCaseRequest(f *testing.F) {
	for _, body := range []string{
		`{"fields":[{"id":"score","value":{"doubleValue":2.5}}]}`,
		`{"fields":[{"id":"summary","value":{"stringValue":"text"}},{"id":"priority","value":{"stringValue":"low"}}]}`,
		`{"fields":[{"id":"escalated","value":{"booleanValue":true}}],"performedBy":{"userArn":"arn:aws:x"}}`,
		`{"fields":[{"id":"owner","value":{"userArnValue":"arn:aws:connect:us-east-1:1:instance/i/agent/a"}}]}`,
		`{"fields":[{"id":"priority","value":{"emptyValue":{}}}]}`,
		`{"fields":[{"id":"summary","value":{"emptyValue":{}}}]}`,
		`{"fields":[{"id":"score","value":{"doubleValue":"NaN"}}]}`,
		`{"fields":[{"id":"score","value":{"doubleValue":1e400}}]}`,
		`{"fields":[{"id":"score","value":{"stringValue":"a","doubleValue":1}}]}`,
		`{"fields":[null,{"id":""}],"performedBy":{"customEntity":"x "}}`,
		`{"fields":[]} trailing`,
		`{"Fields":[{"id":"score","value":{"doubleValue":2}}],"fields":[]}`,
		`[]`, `null`, ``, `{"fields":{}}`,
	} {
		f.Add([]byte(body))
	}
	seed, err := ParseSeed([]byte(testSeedYAML))
	if err != nil {
		f.Fatalf("failed to parse seed: %v", err)
	}
	s, err := New(Options{Region: testRegion, Seed: seed})
	if err != nil {
		f.Fatalf("failed to start emulator: %v", err)
	}
	op := s.model.operations["UpdateCase"]
	labels := func(name string) string {
		return map[string]string{"domainId": "d1", "caseId": "c1"}[name]
	}
	allowed := map[string]bool{CodeValidation: true, CodeSerialization: true, CodeResourceNotFound: true}

	f.Fuzz(func(t *testing.T, body []byte) {
		before, _ := s.CaseFields("d1", "c1")
		tree, aerr := decodeInput(op, labels, nil, body)
		var out any
		if aerr == nil {
			if _, err := json.Marshal(tree); err != nil {
				t.Fatalf("an accepted input must encode: %v", err)
			}
			out, aerr = s.updateCase(&call{op: op, input: tree})
		}
		after, _ := s.CaseFields("d1", "c1")
		if aerr != nil {
			if !allowed[aerr.code] || (aerr.status != http.StatusBadRequest && aerr.status != http.StatusNotFound) {
				t.Fatalf("unexpected error %d %s: %s", aerr.status, aerr.code, aerr.message)
			}
			if aerr.message == "" {
				t.Fatal("an error must carry a message")
			}
			assertSameValues(t, before, after)
			return
		}
		if out != nil {
			t.Fatalf("UpdateCase answers an empty body, got %v", out)
		}
		var in updateCaseInput
		if err := bindInput(tree, &in); err != nil {
			t.Fatalf("failed to bind an accepted input: %v", err)
		}
		for _, fv := range in.Fields {
			got, ok := after[fv.ID]
			switch {
			case fv.Value.Empty && ok:
				t.Fatalf("field %s was cleared but still has %s", fv.ID, got)
			case !fv.Value.Empty && (!ok || !got.Equal(fv.Value)):
				t.Fatalf("field %s: stored %s, sent %s", fv.ID, got, fv.Value)
			}
		}
		s.Reset()
	})
}

// assertSameValues fails unless two value maps are equal.
func assertSameValues(t *testing.T, want, got map[string]FieldValue) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("a refused call changed the case: %v -> %v", want, got)
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || !g.Equal(v) {
			t.Fatalf("a refused call changed field %s: %s -> %s", k, v, g)
		}
	}
}

// FuzzParseSeed checks that any seed file either loads or is refused with an
// error, and that a loaded seed always builds a server whose state encodes.
func FuzzParseSeed(f *testing.F) {
	f.Add([]byte(testSeedYAML))
	f.Add([]byte("domains:\n- {id: d, name: D, fields: [{id: f, name: F, type: Number}], templates: [{id: t, name: T}], cases: [{id: c, templateId: t, fields: {f: {doubleValue: 1}}}]}\n"))
	f.Add([]byte("principals: [{accessKeyId: A, secretAccessKey: s, actions: ['cases:*'], domains: ['*']}]\n"))
	f.Add([]byte("{\"domains\":[{\"id\":\"d\",\"name\":\"D\",\"cases\":[]}]}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		seed, err := ParseSeed(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error must say something")
			}
			return
		}
		s, err := New(Options{Region: testRegion, Seed: seed})
		if err != nil {
			t.Fatalf("a valid seed must start a server: %v", err)
		}
		if _, err := json.Marshal(s.State()); err != nil {
			t.Fatalf("state must encode: %v", err)
		}
	})
}
