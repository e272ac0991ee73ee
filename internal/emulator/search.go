package emulator

import (
	"cmp"
	"slices"
	"strings"
)

// searchCasesInput is the SearchCases request.
type searchCasesInput struct {
	DomainID   string      `json:"domainId"`
	MaxResults *int        `json:"maxResults"`
	NextToken  string      `json:"nextToken"`
	SearchTerm string      `json:"searchTerm"`
	Filter     *caseFilter `json:"filter"`
	Sorts      []struct {
		FieldID   string `json:"fieldId"`
		SortOrder string `json:"sortOrder"`
	} `json:"sorts"`
	Fields []fieldRef `json:"fields"`
}

// caseFilter is the CaseFilter union; the model guarantees one member.
type caseFilter struct {
	Field *fieldFilter `json:"field"`
	Not   *caseFilter  `json:"not"`
	Tag   *struct {
		EqualTo *struct {
			Key   string `json:"key"`
			Value string `json:"value"`
		} `json:"equalTo"`
	} `json:"tag"`
	AndAll []caseFilter `json:"andAll"`
	OrAll  []caseFilter `json:"orAll"`
}

// fieldFilter is the FieldFilter union.
type fieldFilter struct {
	EqualTo              *fieldValueEntry `json:"equalTo"`
	Contains             *fieldValueEntry `json:"contains"`
	GreaterThan          *fieldValueEntry `json:"greaterThan"`
	GreaterThanOrEqualTo *fieldValueEntry `json:"greaterThanOrEqualTo"`
	LessThan             *fieldValueEntry `json:"lessThan"`
	LessThanOrEqualTo    *fieldValueEntry `json:"lessThanOrEqualTo"`
}

// entry returns the filter's operand and a test of a stored value against it.
func (f *fieldFilter) entry() (*fieldValueEntry, func(stored *FieldValue, want FieldValue) bool) {
	order := func(ok func(int) bool) func(*FieldValue, FieldValue) bool {
		return func(stored *FieldValue, want FieldValue) bool {
			c, orderable := compareValues(stored, &want)
			return orderable && ok(c)
		}
	}
	switch {
	case f.EqualTo != nil:
		return f.EqualTo, func(stored *FieldValue, want FieldValue) bool {
			if stored == nil {
				return want.Empty
			}
			return stored.Equal(want)
		}
	case f.Contains != nil:
		return f.Contains, func(stored *FieldValue, want FieldValue) bool {
			return stored != nil && stored.StringValue != nil && want.StringValue != nil &&
				strings.Contains(*stored.StringValue, *want.StringValue)
		}
	case f.GreaterThan != nil:
		return f.GreaterThan, order(func(c int) bool { return c > 0 })
	case f.GreaterThanOrEqualTo != nil:
		return f.GreaterThanOrEqualTo, order(func(c int) bool { return c >= 0 })
	case f.LessThan != nil:
		return f.LessThan, order(func(c int) bool { return c < 0 })
	case f.LessThanOrEqualTo != nil:
		return f.LessThanOrEqualTo, order(func(c int) bool { return c <= 0 })
	}
	return nil, nil
}

// compareValues orders two values of the same member: numbers, strings and
// booleans compare naturally. It reports false when they cannot be compared.
func compareValues(a, b *FieldValue) (int, bool) {
	switch {
	case a == nil || b == nil:
		return 0, false
	case a.DoubleValue != nil && b.DoubleValue != nil:
		return cmp.Compare(*a.DoubleValue, *b.DoubleValue), true
	case a.StringValue != nil && b.StringValue != nil:
		return strings.Compare(*a.StringValue, *b.StringValue), true
	case a.UserArnValue != nil && b.UserArnValue != nil:
		return strings.Compare(*a.UserArnValue, *b.UserArnValue), true
	case a.BooleanValue != nil && b.BooleanValue != nil:
		return cmp.Compare(boolRank(*a.BooleanValue), boolRank(*b.BooleanValue)), true
	}
	return 0, false
}

// boolRank orders false before true.
func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// matches reports whether the case satisfies the filter.
func (f *caseFilter) matches(cs *caseRecord) bool {
	switch {
	case f.Field != nil:
		e, test := f.Field.entry()
		if e == nil {
			return false
		}
		var stored *FieldValue
		if v, ok := cs.fields[e.ID]; ok {
			stored = &v
		}
		return test(stored, e.Value)
	case f.Not != nil:
		return !f.Not.matches(cs)
	case f.Tag != nil:
		return f.Tag.EqualTo != nil && cs.tags[f.Tag.EqualTo.Key] == f.Tag.EqualTo.Value
	case f.AndAll != nil:
		for i := range f.AndAll {
			if !f.AndAll[i].matches(cs) {
				return false
			}
		}
		return true
	case f.OrAll != nil:
		for i := range f.OrAll {
			if f.OrAll[i].matches(cs) {
				return true
			}
		}
		return false
	}
	return true
}

// fieldIDs collects the field ids the filter names.
func (f *caseFilter) fieldIDs(out []string) []string {
	if f == nil {
		return out
	}
	if f.Field != nil {
		if e, _ := f.Field.entry(); e != nil {
			out = append(out, e.ID)
		}
	}
	out = f.Not.fieldIDs(out)
	for i := range f.AndAll {
		out = f.AndAll[i].fieldIDs(out)
	}
	for i := range f.OrAll {
		out = f.OrAll[i].fieldIDs(out)
	}
	return out
}

// searchCases serves SearchCases: cases in creation order, filtered, matched
// against searchTerm (a case-insensitive substring of any string value),
// sorted, then paged; each item carries the requested fields' values.
func (s *Server) searchCases(c *call) (any, *apiError) {
	var in searchCasesInput
	if aerr := bindInput(c.input, &in); aerr != nil {
		return nil, aerr
	}
	st := s.store
	st.mu.RLock()
	items, aerr := searchDomain(st, &in)
	st.mu.RUnlock()
	if aerr != nil {
		return nil, aerr
	}
	page, next, aerr := paginate(items, "SearchCases", in.NextToken, pageSize(in.MaxResults, 10))
	if aerr != nil {
		return nil, aerr
	}
	out := map[string]any{"cases": page, "totalCount": len(items)}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

// searchDomain returns every matching case as a response item; the caller
// holds the read lock.
func searchDomain(st *store, in *searchCasesInput) ([]map[string]any, *apiError) {
	d, aerr := st.domain(in.DomainID)
	if aerr != nil {
		return nil, aerr
	}
	ids := in.Filter.fieldIDs(nil)
	for _, so := range in.Sorts {
		ids = append(ids, so.FieldID)
	}
	for _, ref := range in.Fields {
		ids = append(ids, ref.ID)
	}
	for _, id := range ids {
		if _, aerr := d.field(id); aerr != nil {
			return nil, aerr
		}
	}
	var found []*caseRecord
	term := strings.ToLower(in.SearchTerm)
	for _, id := range d.caseOrder {
		cs := d.cases[id]
		if (in.Filter == nil || in.Filter.matches(cs)) && (term == "" || hasTerm(cs, term)) {
			found = append(found, cs)
		}
	}
	for i := len(in.Sorts) - 1; i >= 0; i-- {
		so := in.Sorts[i]
		slices.SortStableFunc(found, func(a, b *caseRecord) int {
			av, aok := a.fields[so.FieldID]
			bv, bok := b.fields[so.FieldID]
			if !aok || !bok {
				return cmp.Compare(boolRank(!aok), boolRank(!bok))
			}
			c, _ := compareValues(&av, &bv)
			if so.SortOrder == "Desc" {
				c = -c
			}
			return c
		})
	}
	items := make([]map[string]any, 0, len(found))
	for _, cs := range found {
		values := []fieldValueEntry{}
		for _, ref := range in.Fields {
			if v, ok := cs.fields[ref.ID]; ok {
				values = append(values, fieldValueEntry{ID: ref.ID, Value: v.clone()})
			}
		}
		items = append(items, map[string]any{"caseId": cs.id, "templateId": cs.templateID, "fields": values,
			"tags": nonNilTags(cs.tags)})
	}
	return items, nil
}

// hasTerm reports whether any string value of the case contains term.
func hasTerm(cs *caseRecord, term string) bool {
	for _, v := range cs.fields {
		if v.StringValue != nil && strings.Contains(strings.ToLower(*v.StringValue), term) {
			return true
		}
	}
	return false
}
