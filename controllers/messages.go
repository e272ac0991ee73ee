package controllers

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Sizes of the texts the API server accepts.
const (
	// maxEventNote is the longest note of an events.k8s.io/v1 Event.
	maxEventNote = 1024
	// maxConditionMessage is the longest message of a metav1.Condition.
	maxConditionMessage = 32 * 1024
)

// cutMarker ends a text that was cut to fit.
const cutMarker = " …(cut)"

// cut returns s, or its longest prefix that ends on a UTF-8 boundary and,
// followed by the cut marker, fits in limit bytes.
func cut(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	end := max(limit-len(cutMarker), 0)
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[:end] + cutMarker
}

// redactedMarker replaces a value that came from a Secret.
const redactedMarker = "<redacted>"

// redact replaces, in s, every occurrence of the given Secret-sourced texts,
// longest first (so that a value containing another is replaced whole).
func redact(s string, secrets []string) string {
	if len(secrets) == 0 || s == "" {
		return s
	}
	sorted := slices.Clone(secrets)
	slices.SortFunc(sorted, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	for _, v := range sorted {
		if v != "" {
			s = strings.ReplaceAll(s, v, redactedMarker)
		}
	}
	return s
}

// redactOutcome removes Secret-sourced texts from an outcome's message
// before it is recorded or logged anywhere: the service may quote an input
// value in an error message.
func redactOutcome(o Outcome, secrets []string) Outcome {
	o.Message = redact(o.Message, secrets)
	return o
}
