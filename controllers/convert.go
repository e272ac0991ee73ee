package controllers

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// Field types of Connect Cases.
const (
	fieldTypeText         = "Text"
	fieldTypeNumber       = "Number"
	fieldTypeBoolean      = "Boolean"
	fieldTypeDateTime     = "DateTime"
	fieldTypeSingleSelect = "SingleSelect"
	fieldTypeURL          = "Url"
	fieldTypeUser         = "User"
)

// maxStringValue is the longest stringValue the service accepts.
const maxStringValue = 4100

// convertValue turns the text of a Secret or ConfigMap key into the value
// member that fits a field of type fieldType. It is a pure function. Its
// errors describe what was expected and never quote the text, which may be a
// secret.
func convertValue(raw, fieldType string) (casesv1alpha1.FieldValue, error) {
	switch fieldType {
	case fieldTypeNumber:
		d, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
		if err != nil || math.IsNaN(d) || math.IsInf(d, 0) {
			return casesv1alpha1.FieldValue{}, fmt.Errorf("is not a finite number, as a Number field needs")
		}
		return casesv1alpha1.FieldValue{DoubleValue: &d}, nil
	case fieldTypeBoolean:
		switch strings.ToLower(strings.TrimSpace(raw)) {
		case "true":
			b := true
			return casesv1alpha1.FieldValue{BooleanValue: &b}, nil
		case "false":
			b := false
			return casesv1alpha1.FieldValue{BooleanValue: &b}, nil
		}
		return casesv1alpha1.FieldValue{}, fmt.Errorf("is neither true nor false, as a Boolean field needs")
	case fieldTypeText, fieldTypeDateTime, fieldTypeSingleSelect, fieldTypeURL:
		if len(raw) > maxStringValue {
			return casesv1alpha1.FieldValue{}, fmt.Errorf("is longer than %d bytes", maxStringValue)
		}
		return casesv1alpha1.FieldValue{StringValue: &raw}, nil
	case fieldTypeUser:
		arn := strings.TrimSpace(raw)
		if arn == "" || len(arn) > 500 {
			return casesv1alpha1.FieldValue{}, fmt.Errorf("is not a user ARN of 1 to 500 characters, as a User field needs")
		}
		return casesv1alpha1.FieldValue{UserArnValue: &arn}, nil
	default:
		return casesv1alpha1.FieldValue{}, fmt.Errorf("cannot be converted to a field of type %q", fieldType)
	}
}

// valueMember names the member a value sets.
func valueMember(v casesv1alpha1.FieldValue) string {
	switch {
	case v.BooleanValue != nil:
		return "booleanValue"
	case v.DoubleValue != nil:
		return "doubleValue"
	case v.StringValue != nil:
		return "stringValue"
	case v.EmptyValue != nil:
		return "emptyValue"
	case v.UserArnValue != nil:
		return "userArnValue"
	case v.ValueFrom != nil:
		return "valueFrom"
	}
	return ""
}

// expectedMember is the value member that fits a field type.
func expectedMember(fieldType string) string {
	switch fieldType {
	case fieldTypeNumber:
		return "doubleValue"
	case fieldTypeBoolean:
		return "booleanValue"
	case fieldTypeUser:
		return "userArnValue"
	default:
		return "stringValue"
	}
}
