package controllers

import (
	"math"
	"strconv"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

func TestConvertValue(t *testing.T) {
	tests := map[string]struct {
		raw, fieldType string
		want           string // the member set and its value, "" for an error
	}{
		"number":             {raw: " 4.5 ", fieldType: "Number", want: "doubleValue=4.5"},
		"integer":            {raw: "3", fieldType: "Number", want: "doubleValue=3"},
		"not a number":       {raw: "four", fieldType: "Number"},
		"infinite":           {raw: "Inf", fieldType: "Number"},
		"true":               {raw: "True", fieldType: "Boolean", want: "booleanValue=true"},
		"false":              {raw: "false\n", fieldType: "Boolean", want: "booleanValue=false"},
		"yes is not boolean": {raw: "yes", fieldType: "Boolean"},
		"text kept verbatim": {raw: " spaced ", fieldType: "Text", want: "stringValue= spaced "},
		"option":             {raw: "high", fieldType: "SingleSelect", want: "stringValue=high"},
		"url":                {raw: "https://example.com", fieldType: "Url", want: "stringValue=https://example.com"},
		"date":               {raw: "2030-01-01T00:00:00Z", fieldType: "DateTime", want: "stringValue=2030-01-01T00:00:00Z"},
		"text too long":      {raw: strings.Repeat("x", 4101), fieldType: "Text"},
		"user":               {raw: "arn:aws:connect:us-east-1:1:instance/i/agent/a\n", fieldType: "User", want: "userArnValue=arn:aws:connect:us-east-1:1:instance/i/agent/a"},
		"empty user":         {raw: " ", fieldType: "User"},
		"unknown type":       {raw: "x", fieldType: "Picture"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			v, err := convertValue(tc.raw, tc.fieldType)
			if tc.want == "" {
				g.Expect(err).To(HaveOccurred())
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(describeValue(v)).To(Equal(tc.want))
		})
	}
}

// describeValue renders a value as member=value.
func describeValue(v casesv1alpha1.FieldValue) string {
	switch {
	case v.DoubleValue != nil:
		return "doubleValue=" + strconv.FormatFloat(*v.DoubleValue, 'g', -1, 64)
	case v.BooleanValue != nil:
		return "booleanValue=" + strconv.FormatBool(*v.BooleanValue)
	case v.StringValue != nil:
		return "stringValue=" + *v.StringValue
	case v.UserArnValue != nil:
		return "userArnValue=" + *v.UserArnValue
	}
	return ""
}

// FuzzConvertValue checks that any text either converts to exactly the
// member of the field's type, which then passes the request builder, or is
// refused with an error that does not quote the text.
func FuzzConvertValue(f *testing.F) {
	for _, seed := range []string{"4.5", "true", "FALSE", "", "arn:aws:connect:x", "NaN", "1e309", strings.Repeat("é", 2100)} {
		for _, typ := range []string{"Number", "Boolean", "Text", "User", "SingleSelect", "Url", "DateTime", "Other"} {
			f.Add(seed, typ)
		}
	}
	f.Fuzz(func(t *testing.T, raw, fieldType string) {
		v, err := convertValue(raw, fieldType)
		if err != nil {
			if len(raw) >= 4 && strings.Contains(err.Error(), raw) {
				t.Fatalf("the error quotes the value: %v", err)
			}
			return
		}
		if got, want := valueMember(v), expectedMember(fieldType); got != want {
			t.Fatalf("type %q got member %s, want %s", fieldType, got, want)
		}
		if v.DoubleValue != nil && (math.IsNaN(*v.DoubleValue) || math.IsInf(*v.DoubleValue, 0)) {
			t.Fatalf("non-finite number %v", *v.DoubleValue)
		}
		if _, err := fieldValueUnion(v); err != nil {
			t.Fatalf("converted value does not build: %v", err)
		}
	})
}
