package emulator

import "slices"

// fieldValueEntry is one element of a FieldValueList.
type fieldValueEntry struct {
	ID    string     `json:"id"`
	Value FieldValue `json:"value"`
}

// splitEntries returns the ids and values of a FieldValueList.
func splitEntries(entries []fieldValueEntry) ([]string, []FieldValue) {
	ids := make([]string, len(entries))
	values := make([]FieldValue, len(entries))
	for i, e := range entries {
		ids[i], values[i] = e.ID, e.Value
	}
	return ids, values
}

// updateCaseInput is the UpdateCase request; performedBy is validated but
// not kept.
type updateCaseInput struct {
	DomainID string            `json:"domainId"`
	CaseID   string            `json:"caseId"`
	Fields   []fieldValueEntry `json:"fields"`
}

// updateCase serves UpdateCase. Every value is checked before any is
// stored, so a rejected call changes nothing; the response body is empty.
func (s *Server) updateCase(c *call) (any, *apiError) {
	var in updateCaseInput
	if aerr := bindInput(c.input, &in); aerr != nil {
		return nil, aerr
	}
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	d, aerr := st.domain(in.DomainID)
	if aerr != nil {
		return nil, aerr
	}
	cs, aerr := d.getCase(in.CaseID)
	if aerr != nil {
		return nil, aerr
	}
	ids, values := splitEntries(in.Fields)
	if aerr := d.checkValues(d.templates[cs.templateID], ids, values); aerr != nil {
		return nil, aerr
	}
	cs.apply(ids, values, s.now())
	return nil, nil
}

// fieldRef names a field, as FieldIdentifier does.
type fieldRef struct {
	ID string `json:"id"`
}

// getCaseInput is the GetCase request.
type getCaseInput struct {
	DomainID  string     `json:"domainId"`
	CaseID    string     `json:"caseId"`
	Fields    []fieldRef `json:"fields"`
	NextToken string     `json:"nextToken"`
}

// getCase serves GetCase: the stored values of the requested fields, in the
// order requested, fields without a value omitted, GetCasePageSize values a
// page.
func (s *Server) getCase(c *call) (any, *apiError) {
	var in getCaseInput
	if aerr := bindInput(c.input, &in); aerr != nil {
		return nil, aerr
	}
	templateID, values, aerr := s.readCase(in)
	if aerr != nil {
		return nil, aerr
	}
	return s.getCasePage(templateID, values, in.NextToken)
}

// readCase returns the case's template and copies of its values for the
// requested field ids, once each, in request order. An id that is not a
// field of the domain is a ResourceNotFoundException of type Field.
func (s *Server) readCase(in getCaseInput) (string, []fieldValueEntry, *apiError) {
	st := s.store
	st.mu.RLock()
	defer st.mu.RUnlock()
	d, aerr := st.domain(in.DomainID)
	if aerr != nil {
		return "", nil, aerr
	}
	cs, aerr := d.getCase(in.CaseID)
	if aerr != nil {
		return "", nil, aerr
	}
	seen := map[string]bool{}
	out := []fieldValueEntry{}
	for _, ref := range in.Fields {
		if _, aerr := d.field(ref.ID); aerr != nil {
			return "", nil, aerr
		}
		if seen[ref.ID] {
			continue
		}
		seen[ref.ID] = true
		if v, ok := cs.fields[ref.ID]; ok {
			out = append(out, fieldValueEntry{ID: ref.ID, Value: v.clone()})
		}
	}
	return cs.templateID, out, nil
}

// getCasePage builds one GetCase response page.
func (s *Server) getCasePage(templateID string, values []fieldValueEntry, token string) (any, *apiError) {
	items, next, aerr := paginate(values, "GetCase", token, s.pageSize)
	if aerr != nil {
		return nil, aerr
	}
	out := map[string]any{"fields": items, "templateId": templateID, "tags": map[string]string{}}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

// createCaseInput is the CreateCase request.
type createCaseInput struct {
	DomainID    string            `json:"domainId"`
	TemplateID  string            `json:"templateId"`
	Fields      []fieldValueEntry `json:"fields"`
	ClientToken string            `json:"clientToken"`
	Tags        map[string]string `json:"tags"`
}

// createCase serves CreateCase. The template must exist (otherwise
// ResourceNotFoundException of type Template) and be Active, every value
// must fit its field, and every required field must get a value. A repeated
// clientToken returns the case the first call created.
func (s *Server) createCase(c *call) (any, *apiError) {
	var in createCaseInput
	if aerr := bindInput(c.input, &in); aerr != nil {
		return nil, aerr
	}
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	d, aerr := st.domain(in.DomainID)
	if aerr != nil {
		return nil, aerr
	}
	if id, ok := d.clientTokens[in.ClientToken]; ok && in.ClientToken != "" {
		return map[string]any{"caseId": id, "caseArn": d.cases[id].arn}, nil
	}
	t, ok := d.templates[in.TemplateID]
	if !ok {
		return nil, notFound(ResourceTypeTemplate, in.TemplateID)
	}
	if t.status != "Active" {
		return nil, validationError("Template '%s' is %s; cases can only be created from an Active template", t.id, t.status)
	}
	ids, values := splitEntries(in.Fields)
	if aerr := d.checkValues(t, ids, values); aerr != nil {
		return nil, aerr
	}
	for _, req := range t.requiredFields {
		if i := slices.Index(ids, req); i < 0 || values[i].Empty {
			return nil, validationError("Field '%s' is required by template '%s' but has no value", req, t.id)
		}
	}
	now := s.now()
	id := newUUID()
	cs := &caseRecord{id: id, arn: d.childARN("case", id), templateID: t.id, fields: map[string]FieldValue{},
		tags: in.Tags, created: now}
	cs.apply(ids, values, now)
	d.addCase(cs)
	if in.ClientToken != "" {
		d.clientTokens[in.ClientToken] = id
	}
	return map[string]any{"caseId": cs.id, "caseArn": cs.arn}, nil
}
