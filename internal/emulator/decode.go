package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"sort"
	"strconv"
)

// decodeInput reads the path labels, query string and JSON body of a request
// for op, checks them against the model's input shape and returns the input
// as a JSON tree holding only modelled members, with numbers converted to
// int64 or float64. Malformed JSON and JSON of the wrong type are a
// SerializationException; a violated constraint trait is a ValidationException
// naming the member.
func decodeInput(op *modelOperation, label func(string) string, query url.Values, body []byte) (map[string]any, *apiError) {
	var doc map[string]any
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 {
		parsed, err := parseJSON(trimmed)
		if err != nil {
			return nil, err
		}
		switch d := parsed.(type) {
		case nil:
		case map[string]any:
			doc = d
		default:
			return nil, serializationError("request body must be a JSON object")
		}
	}
	v := &validator{}
	out := map[string]any{}
	if op.input == nil {
		return out, nil
	}
	for _, name := range sortedMembers(op.input.members) {
		m := op.input.members[name]
		var (
			raw     any
			present bool
		)
		switch m.location {
		case "label":
			raw = label(name)
			present = raw != ""
		case "query":
			raw, present = v.queryValue(name, m, query[m.locName])
		case "body":
			raw, present = doc[name]
		default:
			continue
		}
		if val, ok := v.check(name, m, raw, present); ok {
			out[name] = val
		}
	}
	if v.serr != nil {
		return nil, v.serr
	}
	if len(v.violations) > 0 {
		return nil, v.result()
	}
	return out, nil
}

// parseJSON decodes one JSON value, keeping numbers as json.Number.
func parseJSON(data []byte) (any, *apiError) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, serializationError("failed to parse request body as JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, serializationError("failed to parse request body as JSON: unexpected data after the top-level value")
	}
	return doc, nil
}

// bindInput copies a checked input tree into the operation's Go input type.
func bindInput(tree map[string]any, dst any) *apiError {
	data, err := json.Marshal(tree)
	if err != nil {
		return serializationError("failed to encode request: %v", err)
	}
	if err := json.Unmarshal(data, dst); err != nil {
		return serializationError("failed to decode request: %v", err)
	}
	return nil
}

// sortedMembers returns member names in a stable order so that messages are
// deterministic.
func sortedMembers(members map[string]*member) []string {
	names := make([]string, 0, len(members))
	for n := range members {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// queryValue converts the query parameters bound to m into the JSON form
// check expects.
func (v *validator) queryValue(name string, m *member, values []string) (any, bool) {
	if len(values) == 0 {
		return nil, false
	}
	switch m.target.kind {
	case "list", "set":
		out := make([]any, len(values))
		for i, s := range values {
			out[i] = s
		}
		return out, true
	case "integer", "long", "short", "byte":
		if _, err := strconv.ParseInt(values[0], 10, 64); err != nil {
			v.typeError(name, "an integer")
			return nil, false
		}
		return json.Number(values[0]), true
	case "boolean":
		b, err := strconv.ParseBool(values[0])
		if err != nil {
			v.typeError(name, "a boolean")
			return nil, false
		}
		return b, true
	default:
		return values[0], true
	}
}
