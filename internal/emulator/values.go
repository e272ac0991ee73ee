package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Field types of the Connect Cases model (FieldType).
const (
	FieldTypeText         = "Text"
	FieldTypeNumber       = "Number"
	FieldTypeBoolean      = "Boolean"
	FieldTypeDateTime     = "DateTime"
	FieldTypeSingleSelect = "SingleSelect"
	FieldTypeURL          = "Url"
	FieldTypeUser         = "User"
)

// FieldValue is the value of a case field. Its JSON form is the AWS
// FieldValueUnion: an object with exactly one of stringValue, doubleValue,
// booleanValue, userArnValue or emptyValue ({}).
type FieldValue struct {
	// StringValue holds the value of a Text, Url, DateTime or SingleSelect field.
	StringValue *string
	// DoubleValue holds the value of a Number field.
	DoubleValue *float64
	// BooleanValue holds the value of a Boolean field.
	BooleanValue *bool
	// UserArnValue holds the value of a User field.
	UserArnValue *string
	// Empty is the emptyValue member: it clears the field.
	Empty bool
}

// StringValue returns a FieldValue holding s as stringValue.
func StringValue(s string) FieldValue { return FieldValue{StringValue: &s} }

// DoubleValue returns a FieldValue holding f as doubleValue.
func DoubleValue(f float64) FieldValue { return FieldValue{DoubleValue: &f} }

// BooleanValue returns a FieldValue holding b as booleanValue.
func BooleanValue(b bool) FieldValue { return FieldValue{BooleanValue: &b} }

// UserArnValue returns a FieldValue holding arn as userArnValue.
func UserArnValue(arn string) FieldValue { return FieldValue{UserArnValue: &arn} }

// EmptyValue returns the FieldValue that clears a field.
func EmptyValue() FieldValue { return FieldValue{Empty: true} }

// fieldValueJSON is the wire form of FieldValue.
type fieldValueJSON struct {
	StringValue  *string          `json:"stringValue,omitempty"`
	DoubleValue  *json.Number     `json:"doubleValue,omitempty"`
	BooleanValue *bool            `json:"booleanValue,omitempty"`
	UserArnValue *string          `json:"userArnValue,omitempty"`
	EmptyValue   *json.RawMessage `json:"emptyValue,omitempty"`
}

// setMembers counts the union members that are set.
func (v FieldValue) setMembers() int {
	n := 0
	for _, set := range []bool{v.StringValue != nil, v.DoubleValue != nil, v.BooleanValue != nil, v.UserArnValue != nil, v.Empty} {
		if set {
			n++
		}
	}
	return n
}

// MarshalJSON encodes the value as a FieldValueUnion.
func (v FieldValue) MarshalJSON() ([]byte, error) {
	if v.setMembers() != 1 {
		return nil, fmt.Errorf("field value must have exactly one member set, has %d", v.setMembers())
	}
	var w fieldValueJSON
	w.StringValue, w.BooleanValue, w.UserArnValue = v.StringValue, v.BooleanValue, v.UserArnValue
	if v.DoubleValue != nil {
		if math.IsNaN(*v.DoubleValue) || math.IsInf(*v.DoubleValue, 0) {
			return nil, errors.New("doubleValue must be a finite number")
		}
		n := json.Number(strconv.FormatFloat(*v.DoubleValue, 'g', -1, 64))
		w.DoubleValue = &n
	}
	if v.Empty {
		empty := json.RawMessage(`{}`)
		w.EmptyValue = &empty
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes a FieldValueUnion, requiring exactly one member.
func (v *FieldValue) UnmarshalJSON(data []byte) error {
	var w fieldValueJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&w); err != nil {
		return fmt.Errorf("failed to decode field value: %w", err)
	}
	out := FieldValue{StringValue: w.StringValue, BooleanValue: w.BooleanValue, UserArnValue: w.UserArnValue}
	if w.DoubleValue != nil {
		f, err := strconv.ParseFloat(string(*w.DoubleValue), 64)
		if err != nil || math.IsInf(f, 0) {
			return fmt.Errorf("doubleValue %q is not a finite number", string(*w.DoubleValue))
		}
		out.DoubleValue = &f
	}
	if w.EmptyValue != nil && !bytes.Equal(bytes.TrimSpace(*w.EmptyValue), []byte("null")) {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(*w.EmptyValue, &obj); err != nil {
			return fmt.Errorf("emptyValue must be an object: %w", err)
		}
		out.Empty = true
	}
	if n := out.setMembers(); n != 1 {
		return fmt.Errorf("field value must have exactly one member set, has %d", n)
	}
	*v = out
	return nil
}

// Equal reports whether two values are the same union member and value.
func (v FieldValue) Equal(o FieldValue) bool {
	return eqPtr(v.StringValue, o.StringValue) && eqPtr(v.DoubleValue, o.DoubleValue) &&
		eqPtr(v.BooleanValue, o.BooleanValue) && eqPtr(v.UserArnValue, o.UserArnValue) && v.Empty == o.Empty
}

// eqPtr compares two optional values.
func eqPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// String describes the value for messages and logs.
func (v FieldValue) String() string {
	switch {
	case v.StringValue != nil:
		return "stringValue " + strconv.Quote(*v.StringValue)
	case v.DoubleValue != nil:
		return "doubleValue " + strconv.FormatFloat(*v.DoubleValue, 'g', -1, 64)
	case v.BooleanValue != nil:
		return "booleanValue " + strconv.FormatBool(*v.BooleanValue)
	case v.UserArnValue != nil:
		return "userArnValue " + strconv.Quote(*v.UserArnValue)
	case v.Empty:
		return "emptyValue"
	}
	return "no value"
}

// member names the union member that is set.
func (v FieldValue) member() string {
	switch {
	case v.StringValue != nil:
		return "stringValue"
	case v.DoubleValue != nil:
		return "doubleValue"
	case v.BooleanValue != nil:
		return "booleanValue"
	case v.UserArnValue != nil:
		return "userArnValue"
	case v.Empty:
		return "emptyValue"
	}
	return "no member"
}

// clone returns a deep copy, so stored values never alias a caller's.
func (v FieldValue) clone() FieldValue {
	out := FieldValue{Empty: v.Empty}
	out.StringValue = clonePtr(v.StringValue)
	out.DoubleValue = clonePtr(v.DoubleValue)
	out.BooleanValue = clonePtr(v.BooleanValue)
	out.UserArnValue = clonePtr(v.UserArnValue)
	return out
}

// clonePtr copies the value behind p.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

// expectedMember maps a field type to the union member its values use.
var expectedMember = map[string]string{
	FieldTypeText: "stringValue", FieldTypeURL: "stringValue", FieldTypeDateTime: "stringValue",
	FieldTypeSingleSelect: "stringValue", FieldTypeNumber: "doubleValue",
	FieldTypeBoolean: "booleanValue", FieldTypeUser: "userArnValue",
}

// checkFieldValue reports whether v fits field f: the union member must be the
// one of the field's type and a SingleSelect value one of its active options.
// An emptyValue fits every type; whether the field may be cleared is the
// template's decision (see checkRequired).
func checkFieldValue(f *field, v FieldValue) *apiError {
	if n := v.setMembers(); n != 1 {
		return validationError("Value of field '%s' must have exactly one member set, found %d", f.id, n)
	}
	if v.Empty {
		return nil
	}
	want := expectedMember[f.typ]
	if got := v.member(); got != want {
		return validationError("Invalid value for field '%s': a %s field takes %s, got %s", f.id, f.typ, want, got)
	}
	if v.DoubleValue != nil && (math.IsNaN(*v.DoubleValue) || math.IsInf(*v.DoubleValue, 0)) {
		return validationError("Invalid value for field '%s': doubleValue must be a finite number", f.id)
	}
	if f.typ == FieldTypeSingleSelect && !f.hasActiveOption(*v.StringValue) {
		return validationError("Invalid value for field '%s': %q is not an active option of the field", f.id, *v.StringValue)
	}
	return nil
}
