package controllers

import (
	"strings"
	"testing"
	"unicode/utf8"

	. "github.com/onsi/gomega"
)

func TestCut(t *testing.T) {
	tests := map[string]struct {
		in    string
		limit int
		want  string
	}{
		"fits":                {in: "short", limit: 10, want: "short"},
		"exactly the limit":   {in: "0123456789", limit: 10, want: "0123456789"},
		"ascii over":          {in: strings.Repeat("a", 20), limit: 15, want: "aaaaaa" + cutMarker},
		"never mid-character": {in: strings.Repeat("é", 10), limit: 16, want: "ééé" + cutMarker},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			got := cut(tc.in, tc.limit)
			g.Expect(got).To(Equal(tc.want))
			g.Expect(len(got)).To(BeNumerically("<=", tc.limit))
			g.Expect(utf8.ValidString(got)).To(BeTrue())
		})
	}
}

func FuzzCut(f *testing.F) {
	f.Add("Field Priority (priority): \"x\" is not an active option; allowed: a, b, c", 40)
	f.Add(strings.Repeat("€", 400), maxEventNote)
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if limit < len(cutMarker) || !utf8.ValidString(s) {
			return
		}
		got := cut(s, limit)
		if len(got) > limit && len(s) > limit {
			t.Fatalf("cut(%d) returned %d bytes", limit, len(got))
		}
		if !utf8.ValidString(got) {
			t.Fatalf("cut returned invalid UTF-8: %q", got)
		}
		if len(s) > limit && !strings.HasSuffix(got, cutMarker) {
			t.Fatalf("a cut text does not say so: %q", got)
		}
	})
}

func TestRedact(t *testing.T) {
	tests := map[string]struct {
		in      string
		secrets []string
		want    string
	}{
		"nothing to redact": {in: "ValidationException: bad", secrets: nil, want: "ValidationException: bad"},
		"quoted value": {in: "ValidationException: value 'tok-123' is not an active option", secrets: []string{"tok-123"},
			want: "ValidationException: value '<redacted>' is not an active option"},
		"longest first": {in: "a secret-long b secret", secrets: []string{"secret", "secret-long"}, want: "a <redacted> b <redacted>"},
		"number forms":  {in: "value 8.0 or 8", secrets: secretForms(" 8 "), want: "value <redacted>.0 or <redacted>"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			NewWithT(t).Expect(redact(tc.in, tc.secrets)).To(Equal(tc.want))
		})
	}
}
