package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	. "github.com/onsi/gomega"
)

// admin sends an unauthenticated admin request and decodes the JSON answer
// into out when out is not nil.
func (e *env) admin(t *testing.T, method, path, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, bytes.NewBufferString(body))
	if err != nil {
		t.Fatalf("failed to build request: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("admin request failed: %v", err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("failed to decode %s: %v", data, err)
		}
	}
	return resp.StatusCode
}

func TestAdminState(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	var st State
	g.Expect(e.admin(t, "GET", "/_emulator/state", "", &st)).To(Equal(200))
	g.Expect(st.Domains).To(HaveLen(2))
	d := st.Domains[0]
	g.Expect(d.ID).To(Equal("d1"))
	g.Expect(d.Fields).To(HaveLen(7))
	g.Expect(d.Fields[0].Options).To(ContainElement(FieldOption{Name: "Old", Value: "old", Active: false}))
	g.Expect(d.Templates[0].RequiredFields).To(Equal([]string{"summary"}))
	g.Expect(d.Cases[0].Fields).To(HaveKeyWithValue("priority", StringValue("high")))
	g.Expect(d.Cases[0].Fields).To(HaveKeyWithValue("score", DoubleValue(1.5)))
}

func TestAdminCalls(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	g.Expect(e.update(2)).To(Succeed())
	resp, _ := e.raw(t, "PUT", "/domains/d1/cases/c1", `{"fields":[]`)
	g.Expect(resp.StatusCode).To(Equal(400))

	var calls CallStats
	g.Expect(e.admin(t, "GET", "/_emulator/calls", "", &calls)).To(Equal(200))
	g.Expect(calls.Counts).To(Equal(map[string]map[string]int{"UpdateCase": {"OK": 1, "SerializationException": 1}}))
	g.Expect(calls.Recent).To(HaveLen(2))
	first := calls.Recent[0]
	g.Expect(first.Operation).To(Equal("UpdateCase"))
	g.Expect(first.Outcome).To(Equal("OK"))
	g.Expect(first.Status).To(Equal(200))
	g.Expect(first.AccessKeyID).To(Equal(testKey))
	g.Expect(first.DomainID).To(Equal("d1"))
	g.Expect(first.RequestID).NotTo(BeEmpty())
	g.Expect(string(first.Body)).To(MatchJSON(`{"fields":[{"id":"score","value":{"doubleValue":2}}]}`))
	g.Expect(string(calls.Recent[1].Body)).To(Equal(`"{\"fields\":[]"`), "a body that is not JSON is kept as text")
}

func TestAdminCallsKeepsTheLast1000(t *testing.T) {
	g := NewWithT(t)
	l := newCallLog()
	for i := range 1005 {
		l.add(CallRecord{Operation: "GetCase", Outcome: "OK", Status: i})
	}
	st := l.stats()
	g.Expect(st.Recent).To(HaveLen(1000))
	g.Expect(st.Recent[0].Status).To(Equal(5))
	g.Expect(st.Recent[999].Status).To(Equal(1004))
	g.Expect(l.count("GetCase", "")).To(Equal(1005))
}

func TestAdminFaults(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t, unlimited)
	var faults []Fault
	g.Expect(e.admin(t, "PUT", "/_emulator/faults",
		`[{"operation":"UpdateCase","kind":"ThrottlingException","count":1},{"operation":"*","kind":"Latency","rate":1,"minLatency":"1ms","maxLatency":"2ms"}]`,
		&faults)).To(Equal(200))
	g.Expect(faults).To(HaveLen(2))
	g.Expect(faults[1].MaxLatency.String()).To(Equal("2ms"))
	g.Expect(apiCode(e.update(1))).To(Equal("ThrottlingException"))
	g.Expect(e.update(2)).To(Succeed())

	var msg struct{ Message string }
	g.Expect(e.admin(t, "PUT", "/_emulator/faults", `[{"operation":"UpdateCase","kind":"Nope","count":1}]`, &msg)).To(Equal(400))
	g.Expect(msg.Message).To(ContainSubstring("Nope"))
	g.Expect(e.admin(t, "PUT", "/_emulator/faults", `[{"operation":"UpdateCase","kynd":"ThrottlingException"}]`, &msg)).To(Equal(400))
	g.Expect(e.srv.Faults()).To(HaveLen(2), "a rejected list changes nothing")

	g.Expect(e.admin(t, "PUT", "/_emulator/faults", `[]`, nil)).To(Equal(200))
	g.Expect(e.srv.Faults()).To(BeEmpty())
}

func TestAdminQuotas(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	var quotas map[string]Quota
	g.Expect(e.admin(t, "PUT", "/_emulator/quotas", `{"UpdateCase":{"rps":1,"burst":1}}`, &quotas)).To(Equal(200))
	g.Expect(quotas["UpdateCase"]).To(Equal(Quota{RPS: 1, Burst: 1}))
	g.Expect(quotas["GetCase"]).To(Equal(Quota{RPS: 4, Burst: 10}), "quotas not given stay")
	g.Expect(e.update(1)).To(Succeed())
	g.Expect(apiCode(e.update(2))).To(Equal("ThrottlingException"))

	g.Expect(e.admin(t, "PUT", "/_emulator/quotas", `{"Bogus":{"rps":1,"burst":1}}`, nil)).To(Equal(400))
	g.Expect(e.admin(t, "GET", "/_emulator/quotas", "", &quotas)).To(Equal(200))
	g.Expect(quotas).NotTo(HaveKey("Bogus"))
}

func TestAdminReset(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t, unlimited, func(o *Options) {
		o.Faults = []Fault{{Operation: "GetDomain", Kind: FaultThrottling, Count: 1}}
	})
	g.Expect(e.update(99)).To(Succeed())
	e.srv.SetFaults([]Fault{{Operation: "UpdateCase", Kind: FaultInternalServer, Count: 5}})

	g.Expect(e.admin(t, "POST", "/_emulator/reset", "", nil)).To(Equal(204))
	stored, _ := e.srv.CaseFields("d1", "c1")
	g.Expect(stored["score"]).To(Equal(DoubleValue(1.5)), "back to the seed")
	g.Expect(e.srv.CallCount("", "")).To(Equal(0), "calls are cleared")
	g.Expect(e.srv.Faults()).To(Equal([]Fault{{Operation: "UpdateCase", Kind: FaultInternalServer, Count: 5}}), "faults stay")

	g.Expect(e.admin(t, "POST", "/_emulator/reset?faults=true", "", nil)).To(Equal(204))
	g.Expect(e.srv.Faults()).To(Equal([]Fault{{Operation: "GetDomain", Kind: FaultThrottling, Count: 1}}), "the initial faults return")
	g.Expect(e.admin(t, "POST", "/_emulator/reset?faults=maybe", "", nil)).To(Equal(400))
}

func TestAdminCaseValues(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	var got caseValues
	g.Expect(e.admin(t, "PUT", "/_emulator/cases/d1/c1", `{"fields":{"priority":{"stringValue":"low"},"score":{"emptyValue":{}}}}`, &got)).To(Equal(200))
	g.Expect(got.Fields).To(Equal(map[string]FieldValue{"priority": StringValue("low"), "summary": StringValue("first case")}))
	g.Expect(e.srv.CallCount("", "")).To(Equal(0), "out-of-band changes are not calls")

	g.Expect(e.caseValues(t, "d1", "c1", "priority", "score")).To(Equal(map[string]types.FieldValueUnion{"priority": str("low")}))

	var msg struct{ Message string }
	g.Expect(e.admin(t, "PUT", "/_emulator/cases/d1/c1", `{"fields":{"priority":{"stringValue":"urgent"}}}`, &msg)).To(Equal(400))
	g.Expect(msg.Message).To(ContainSubstring("priority"))
	g.Expect(e.admin(t, "PUT", "/_emulator/cases/d1/nope", `{"fields":{"priority":{"stringValue":"low"}}}`, nil)).To(Equal(404))
	g.Expect(e.admin(t, "GET", "/_emulator/cases/d1/nope", "", nil)).To(Equal(404))
	g.Expect(e.admin(t, "GET", "/_emulator/nothing", "", nil)).To(Equal(404))

	g.Expect(e.srv.SetCaseField("d1", "c1", "summary", EmptyValue())).To(MatchError(ContainSubstring("required")))
	g.Expect(e.srv.SetCaseField("d1", "c1", "escalated", BooleanValue(false))).To(Succeed())
	stored, _ := e.srv.CaseFields("d1", "c1")
	g.Expect(stored["escalated"]).To(Equal(BooleanValue(false)))
}

func TestRenameField(t *testing.T) {
	g := NewWithT(t)
	srv := newEnv(t).srv
	g.Expect(srv.RenameField("d1", "priority", "Escalated")).To(MatchError(ContainSubstring("taken")))
	g.Expect(srv.RenameField("d1", "priority", "Urgency")).To(Succeed())
	var found bool
	for _, d := range srv.State().Domains {
		for _, f := range d.Fields {
			if d.ID == "d1" && f.ID == "priority" {
				found = true
				g.Expect(f.Name).To(Equal("Urgency"))
			}
		}
	}
	g.Expect(found).To(BeTrue())
	g.Expect(srv.RenameField("d1", "missing", "X")).To(MatchError(ContainSubstring("missing")))
}
