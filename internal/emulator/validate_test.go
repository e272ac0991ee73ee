package emulator

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// fieldsBody returns a FieldValueList body of n text values.
func fieldsBody(n int, value string) string {
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf(`{"id":"f%d","value":%s}`, i, value)
	}
	return `{"fields":[` + strings.Join(items, ",") + `]}`
}

// idsBody returns a FieldIdentifierList body of n ids.
func idsBody(n int) string {
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf(`{"id":"f%d"}`, i)
	}
	return `{"fields":[` + strings.Join(items, ",") + `]}`
}

func TestModelConstraintsAreEnforced(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := map[string]struct {
		method, path, body string
		code               string
		contains           []string
	}{
		"UpdateCase fields required": {"PUT", "/domains/d1/cases/c1", `{}`, "ValidationException",
			[]string{"Value null at 'fields'", "must not be null"}},
		"UpdateCase at most 220 fields": {"PUT", "/domains/d1/cases/c1", fieldsBody(221, `{"stringValue":"x"}`), "ValidationException",
			[]string{"'fields'", "less than or equal to 220"}},
		"UpdateCase union needs a member": {"PUT", "/domains/d1/cases/c1", `{"fields":[{"id":"summary","value":{}}]}`, "ValidationException",
			[]string{"'fields.1.member.value'", "exactly one member"}},
		"UpdateCase union takes one member": {"PUT", "/domains/d1/cases/c1", `{"fields":[{"id":"summary","value":{"stringValue":"a","doubleValue":1}}]}`, "ValidationException",
			[]string{"'fields.1.member.value'", "found 2"}},
		"UpdateCase stringValue at most 4100": {"PUT", "/domains/d1/cases/c1", `{"fields":[{"id":"summary","value":{"stringValue":"` + long(4101) + `"}}]}`, "ValidationException",
			[]string{"'fields.1.member.value.stringValue'", "less than or equal to 4100"}},
		"UpdateCase field id at least 1": {"PUT", "/domains/d1/cases/c1", `{"fields":[{"id":"","value":{"stringValue":"a"}}]}`, "ValidationException",
			[]string{"'fields.1.member.id'", "greater than or equal to 1"}},
		"UpdateCase field id at most 500": {"PUT", "/domains/d1/cases/c1", `{"fields":[{"id":"` + long(501) + `","value":{"stringValue":"a"}}]}`, "ValidationException",
			[]string{"'fields.1.member.id'", "less than or equal to 500"}},
		"UpdateCase value required": {"PUT", "/domains/d1/cases/c1", `{"fields":[{"id":"summary"}]}`, "ValidationException",
			[]string{"Value null at 'fields.1.member.value'"}},
		"UpdateCase null list element": {"PUT", "/domains/d1/cases/c1", `{"fields":[null]}`, "ValidationException",
			[]string{"'fields.1.member'", "must not be null"}},
		"UpdateCase customEntity pattern": {"PUT", "/domains/d1/cases/c1", `{"fields":[],"performedBy":{"customEntity":"trailing space "}}`, "ValidationException",
			[]string{"'performedBy.customEntity'", "regular expression pattern"}},
		"UpdateCase performedBy one member": {"PUT", "/domains/d1/cases/c1", `{"fields":[],"performedBy":{"userArn":"a","customEntity":"b"}}`, "ValidationException",
			[]string{"'performedBy'", "exactly one member"}},
		"UpdateCase NaN refused": {"PUT", "/domains/d1/cases/c1", `{"fields":[{"id":"score","value":{"doubleValue":"NaN"}}]}`, "ValidationException",
			[]string{"'fields.1.member.value.doubleValue'", "finite"}},
		"UpdateCase malformed JSON": {"PUT", "/domains/d1/cases/c1", `{"fields":[`, "SerializationException",
			[]string{"JSON"}},
		"UpdateCase wrong JSON type": {"PUT", "/domains/d1/cases/c1", `{"fields":"summary"}`, "SerializationException",
			[]string{"'fields'", "list"}},
		"UpdateCase body not an object": {"PUT", "/domains/d1/cases/c1", `[1]`, "SerializationException",
			[]string{"object"}},
		"GetCase at least 1 field": {"POST", "/domains/d1/cases/c1", `{"fields":[]}`, "ValidationException",
			[]string{"'fields'", "greater than or equal to 1"}},
		"GetCase at most 220 fields": {"POST", "/domains/d1/cases/c1", idsBody(221), "ValidationException",
			[]string{"'fields'", "less than or equal to 220"}},
		"GetCase nextToken at most 9000": {"POST", "/domains/d1/cases/c1", `{"fields":[{"id":"a"}],"nextToken":"` + long(9001) + `"}`, "ValidationException",
			[]string{"'nextToken'", "less than or equal to 9000"}},
		"BatchGetField at most 50": {"POST", "/domains/d1/fields-batch", idsBody(51), "ValidationException",
			[]string{"'fields'", "less than or equal to 50"}},
		"BatchGetField at least 1": {"POST", "/domains/d1/fields-batch", `{"fields":[]}`, "ValidationException",
			[]string{"'fields'", "greater than or equal to 1"}},
		"ListDomains maxResults at most 10": {"POST", "/domains-list?maxResults=11", ``, "ValidationException",
			[]string{"'maxResults'", "less than or equal to 10"}},
		"ListDomains maxResults at least 1": {"POST", "/domains-list?maxResults=0", ``, "ValidationException",
			[]string{"'maxResults'", "greater than or equal to 1"}},
		"ListDomains maxResults integer": {"POST", "/domains-list?maxResults=ten", ``, "SerializationException",
			[]string{"'maxResults'", "integer"}},
		"ListFields maxResults at most 100": {"POST", "/domains/d1/fields-list?maxResults=101", ``, "ValidationException",
			[]string{"'maxResults'", "less than or equal to 100"}},
		"ListFieldOptions at most one value": {"POST", "/domains/d1/fields/priority/options-list?values=a&values=b", ``, "ValidationException",
			[]string{"'values'", "less than or equal to 1"}},
		"CreateField type enum": {"POST", "/domains/d1/fields", `{"name":"X","type":"Bogus"}`, "ValidationException",
			[]string{"'type'", "enum value set: [Text, Number, Boolean, DateTime, SingleSelect, Url, User]"}},
		"CreateField name pattern": {"POST", "/domains/d1/fields", `{"name":"X ","type":"Text"}`, "ValidationException",
			[]string{"'name'", "pattern"}},
		"CreateDomain name at most 100": {"POST", "/domains", `{"name":"` + long(101) + `"}`, "ValidationException",
			[]string{"'name'", "less than or equal to 100"}},
		"CreateTemplate description at most 255": {"POST", "/domains/d1/templates", `{"name":"T","description":"` + long(256) + `"}`, "ValidationException",
			[]string{"'description'", "less than or equal to 255"}},
		"BatchPutFieldOptions option required members": {"PUT", "/domains/d1/fields/priority/options", `{"options":[{"name":"A"}]}`, "ValidationException",
			[]string{"2 validation errors", "Value null at 'options.1.member.active'", "Value null at 'options.1.member.value'"}},
		"SearchCases maxResults at most 100": {"POST", "/domains/d1/cases-search", `{"maxResults":101}`, "ValidationException",
			[]string{"'maxResults'", "less than or equal to 100"}},
		"SearchCases sort order enum": {"POST", "/domains/d1/cases-search", `{"sorts":[{"fieldId":"score","sortOrder":"Up"}]}`, "ValidationException",
			[]string{"'sorts.1.member.sortOrder'", "[Asc, Desc]"}},
		"CreateCase tag key lookahead pattern": {"POST", "/domains/d1/cases", `{"templateId":"t1","fields":[],"tags":{"aws:x":"y"}}`, "ValidationException",
			[]string{"'tags.aws:x'", "pattern"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			e := newEnv(t)
			resp, body := e.raw(t, tc.method, tc.path, tc.body)
			g.Expect(resp.StatusCode).To(Equal(400))
			g.Expect(resp.Header.Get("X-Amzn-ErrorType")).To(Equal(tc.code))
			var msg struct{ Message string }
			g.Expect(json.Unmarshal(body, &msg)).To(Succeed())
			for _, want := range tc.contains {
				g.Expect(msg.Message).To(ContainSubstring(want))
			}
		})
	}
}

func TestUnknownMembersAreIgnored(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	resp, _ := e.raw(t, "PUT", "/domains/d1/cases/c1",
		`{"fields":[{"id":"score","value":{"doubleValue":9},"extra":1}],"Fields":"ignored","unknown":{"a":[1]}}`)
	g.Expect(resp.StatusCode).To(Equal(200))
	got, _ := e.srv.CaseFields("d1", "c1")
	g.Expect(got["score"]).To(Equal(DoubleValue(9)))
}

func TestUnknownOperation(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	resp, _ := e.raw(t, "DELETE", "/domains/d1/cases/c1", "")
	g.Expect(resp.StatusCode).To(Equal(404))
	g.Expect(resp.Header.Get("X-Amzn-ErrorType")).To(Equal("UnknownOperationException"))
	g.Expect(resp.Header.Get("x-amzn-RequestId")).NotTo(BeEmpty())
}

func TestBodyTooLarge(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	resp, _ := e.raw(t, "PUT", "/domains/d1/cases/c1", `{"fields":[],"pad":"`+strings.Repeat("x", maxBodyBytes)+`"}`)
	g.Expect(resp.StatusCode).To(Equal(413))
	g.Expect(resp.Header.Get("X-Amzn-ErrorType")).To(Equal("RequestEntityTooLargeException"))
}
