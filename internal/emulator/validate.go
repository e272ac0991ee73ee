package emulator

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxReportedViolations caps how many constraint violations one
// ValidationException lists.
const maxReportedViolations = 10

// validator collects constraint violations and the first type error.
type validator struct {
	violations []string
	serr       *apiError
}

// fail records a violated constraint at path.
func (v *validator) fail(path, constraint string) {
	v.violations = append(v.violations, fmt.Sprintf("Value at '%s' failed to satisfy constraint: %s", path, constraint))
}

// typeError records that the JSON at path has the wrong type.
func (v *validator) typeError(path, want string) {
	if v.serr == nil {
		v.serr = serializationError("Value at '%s' must be %s", path, want)
	}
}

// result builds the ValidationException listing the violations.
func (v *validator) result() *apiError {
	n := len(v.violations)
	shown := v.violations
	if len(shown) > maxReportedViolations {
		shown = shown[:maxReportedViolations]
	}
	noun := "error"
	if n > 1 {
		noun = "errors"
	}
	return validationError("%d validation %s detected: %s", n, noun, strings.Join(shown, "; "))
}

// integerBounds are the value ranges of Smithy integer kinds.
var integerBounds = map[string][2]float64{
	"byte": {math.MinInt8, math.MaxInt8}, "short": {math.MinInt16, math.MaxInt16},
	"integer": {math.MinInt32, math.MaxInt32}, "long": {math.MinInt64, math.MaxInt64},
}

// check validates one value against a member and returns it converted. The
// boolean is false when the value is absent or unusable.
func (v *validator) check(path string, m *member, val any, present bool) (any, bool) {
	if !present || val == nil {
		if m.c.required {
			v.violations = append(v.violations, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", path))
		}
		return nil, false
	}
	switch m.target.kind {
	case "string":
		s, ok := val.(string)
		if !ok {
			v.typeError(path, "a string")
			return nil, false
		}
		v.checkLength(path, m.c, int64(utf8.RuneCountInString(s)))
		if m.c.pattern != nil && !m.c.pattern.MatchString(s) {
			v.fail(path, "Member must satisfy regular expression pattern: "+m.c.patternSrc)
		}
		if len(m.c.enum) > 0 && !slices.Contains(m.c.enum, s) {
			v.fail(path, "Member must satisfy enum value set: ["+strings.Join(m.c.enum, ", ")+"]")
		}
		return s, true
	case "blob":
		s, ok := val.(string)
		if !ok {
			v.typeError(path, "a base64 string")
			return nil, false
		}
		v.checkLength(path, m.c, int64(len(s)))
		return s, true
	case "boolean":
		b, ok := val.(bool)
		if !ok {
			v.typeError(path, "a boolean")
			return nil, false
		}
		return b, true
	case "byte", "short", "integer", "long", "bigInteger":
		return v.checkInteger(path, m, val)
	case "float", "double", "bigDecimal":
		return v.checkFloat(path, m, val)
	case "timestamp":
		switch t := val.(type) {
		case json.Number:
			f, err := t.Float64()
			if err != nil || math.IsInf(f, 0) {
				v.typeError(path, "a timestamp")
				return nil, false
			}
			return f, true
		case string:
			return t, true
		}
		v.typeError(path, "a timestamp")
		return nil, false
	case "document":
		return normalizeJSON(val), true
	case "list", "set":
		return v.checkList(path, m, val)
	case "map":
		return v.checkMap(path, m, val)
	case "structure", "union":
		return v.checkStructure(path, m, val)
	}
	return val, true
}

// checkLength applies a length trait to a measured size.
func (v *validator) checkLength(path string, c constraints, n int64) {
	if c.minLen != nil && n < *c.minLen {
		v.fail(path, fmt.Sprintf("Member must have length greater than or equal to %d", *c.minLen))
	}
	if c.maxLen != nil && n > *c.maxLen {
		v.fail(path, fmt.Sprintf("Member must have length less than or equal to %d", *c.maxLen))
	}
}

// checkRange applies a range trait to a number.
func (v *validator) checkRange(path string, c constraints, f float64) {
	if c.min != nil && f < *c.min {
		v.fail(path, "Member must have value greater than or equal to "+strconv.FormatFloat(*c.min, 'f', -1, 64))
	}
	if c.max != nil && f > *c.max {
		v.fail(path, "Member must have value less than or equal to "+strconv.FormatFloat(*c.max, 'f', -1, 64))
	}
}

// checkInteger validates an integral JSON number.
func (v *validator) checkInteger(path string, m *member, val any) (any, bool) {
	n, ok := val.(json.Number)
	if !ok {
		v.typeError(path, "an integer")
		return nil, false
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(string(n), 64)
		if ferr != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
			v.typeError(path, "an integer")
			return nil, false
		}
		i = int64(f)
	}
	if b, ok := integerBounds[m.target.kind]; ok && (float64(i) < b[0] || float64(i) > b[1]) {
		v.typeError(path, "an integer of type "+m.target.kind)
		return nil, false
	}
	v.checkRange(path, m.c, float64(i))
	return i, true
}

// checkFloat validates a floating-point JSON number. The restJson1 spellings
// of non-finite values ("NaN", "Infinity", "-Infinity") are well-formed but
// the emulator refuses them: no Connect Cases value can hold one.
func (v *validator) checkFloat(path string, m *member, val any) (any, bool) {
	switch n := val.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			v.typeError(path, "a finite number")
			return nil, false
		}
		v.checkRange(path, m.c, f)
		return f, true
	case string:
		if n == "NaN" || n == "Infinity" || n == "-Infinity" {
			v.fail(path, "Member must be a finite number")
			return nil, false
		}
	}
	v.typeError(path, "a number")
	return nil, false
}

// checkList validates a list and its elements.
func (v *validator) checkList(path string, m *member, val any) (any, bool) {
	items, ok := val.([]any)
	if !ok {
		v.typeError(path, "a list")
		return nil, false
	}
	v.checkLength(path, m.c, int64(len(items)))
	out := make([]any, 0, len(items))
	for i, item := range items {
		p := fmt.Sprintf("%s.%d.member", path, i+1)
		if item == nil {
			if !m.target.sparse {
				v.fail(p, "Member must not be null")
			}
			out = append(out, nil)
			continue
		}
		if cv, ok := v.check(p, m.target.elem, item, true); ok {
			out = append(out, cv)
		}
	}
	return out, true
}

// checkMap validates a map, its keys and its values.
func (v *validator) checkMap(path string, m *member, val any) (any, bool) {
	obj, ok := val.(map[string]any)
	if !ok {
		v.typeError(path, "a map")
		return nil, false
	}
	v.checkLength(path, m.c, int64(len(obj)))
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]any, len(obj))
	for _, k := range keys {
		p := path + "." + k
		v.check(p, m.target.key, k, true)
		if obj[k] == nil {
			if !m.target.sparse {
				v.fail(p, "Member must not be null")
			}
			out[k] = nil
			continue
		}
		if cv, ok := v.check(p, m.target.value, obj[k], true); ok {
			out[k] = cv
		}
	}
	return out, true
}

// checkStructure validates a structure or union. Unknown members are ignored,
// as AWS does; a union must have exactly one non-null modelled member.
func (v *validator) checkStructure(path string, m *member, val any) (any, bool) {
	obj, ok := val.(map[string]any)
	if !ok {
		v.typeError(path, "an object")
		return nil, false
	}
	out := map[string]any{}
	set := 0
	for _, name := range sortedMembers(m.target.members) {
		raw, present := obj[name]
		if present && raw != nil {
			set++
		}
		if cv, ok := v.check(path+"."+name, m.target.members[name], raw, present); ok {
			out[name] = cv
		}
	}
	if m.target.kind == "union" && set != 1 {
		v.fail(path, fmt.Sprintf("Union must have exactly one member set, found %d", set))
	}
	return out, true
}

// normalizeJSON converts json.Number values of a document to float64.
func normalizeJSON(val any) any {
	switch t := val.(type) {
	case json.Number:
		f, _ := t.Float64()
		return f
	case []any:
		for i := range t {
			t[i] = normalizeJSON(t[i])
		}
	case map[string]any:
		for k := range t {
			t[k] = normalizeJSON(t[k])
		}
	}
	return val
}
