package emulator

import "slices"

// createFieldInput is the CreateField request.
type createFieldInput struct {
	DomainID    string `json:"domainId"`
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description"`
	Attributes  *struct {
		Text *struct {
			IsMultiline bool `json:"isMultiline"`
		} `json:"text"`
	} `json:"attributes"`
}

// createField serves CreateField: a Custom field with a fresh id. A name
// already used in the domain is a ConflictException.
func (s *Server) createField(c *call) (any, *apiError) {
	var in createFieldInput
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
	if d.fieldByName(in.Name) != nil {
		return nil, conflict("A field named %q already exists in domain %s", in.Name, d.id)
	}
	id := newUUID()
	now := s.now()
	f := &field{id: id, arn: d.childARN("field", id), name: in.Name, typ: in.Type, description: in.Description,
		namespace: "Custom", created: now, modified: now}
	if in.Attributes != nil && in.Attributes.Text != nil {
		multiline := in.Attributes.Text.IsMultiline
		f.multiline = &multiline
	}
	d.addField(f)
	return map[string]any{"fieldId": f.id, "fieldArn": f.arn}, nil
}

// attributes renders the field's FieldAttributes, or nil.
func (f *field) attributes() map[string]any {
	if f.multiline == nil {
		return nil
	}
	return map[string]any{"text": map[string]any{"isMultiline": *f.multiline}}
}

// fieldSummary is an item of ListFields.
type fieldSummary struct {
	FieldID    string         `json:"fieldId"`
	FieldArn   string         `json:"fieldArn"`
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Namespace  string         `json:"namespace"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

// listFields serves ListFields, the domain's fields in creation order.
func (s *Server) listFields(c *call) (any, *apiError) {
	var in listInput
	if aerr := bindInput(c.input, &in); aerr != nil {
		return nil, aerr
	}
	st := s.store
	st.mu.RLock()
	d, aerr := st.domain(in.DomainID)
	if aerr != nil {
		st.mu.RUnlock()
		return nil, aerr
	}
	all := make([]fieldSummary, 0, len(d.fieldOrder))
	for _, id := range d.fieldOrder {
		f := d.fields[id]
		all = append(all, fieldSummary{FieldID: f.id, FieldArn: f.arn, Name: f.name, Type: f.typ,
			Namespace: f.namespace, Attributes: f.attributes()})
	}
	st.mu.RUnlock()
	items, next, aerr := paginate(all, "ListFields", in.NextToken, pageSize(in.MaxResults, 100))
	if aerr != nil {
		return nil, aerr
	}
	out := map[string]any{"fields": items}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

// fieldIDsInput is a request naming fields by id.
type fieldIDsInput struct {
	DomainID string     `json:"domainId"`
	Fields   []fieldRef `json:"fields"`
}

// batchGetField serves BatchGetField. Ids that are not fields of the domain
// are reported in errors with errorCode ResourceNotFoundException, not as a
// failed call.
func (s *Server) batchGetField(c *call) (any, *apiError) {
	var in fieldIDsInput
	if aerr := bindInput(c.input, &in); aerr != nil {
		return nil, aerr
	}
	st := s.store
	st.mu.RLock()
	defer st.mu.RUnlock()
	d, aerr := st.domain(in.DomainID)
	if aerr != nil {
		return nil, aerr
	}
	fields, errs := []map[string]any{}, []map[string]any{}
	for _, ref := range in.Fields {
		f, ok := d.fields[ref.ID]
		if !ok {
			errs = append(errs, map[string]any{"id": ref.ID, "errorCode": CodeResourceNotFound,
				"message": "Field " + ref.ID + " not found"})
			continue
		}
		item := map[string]any{
			"fieldId": f.id, "name": f.name, "fieldArn": f.arn, "type": f.typ, "namespace": f.namespace,
			"tags": map[string]string{}, "deleted": false,
			"createdTime": formatTime(f.created), "lastModifiedTime": formatTime(f.modified),
		}
		if f.description != "" {
			item["description"] = f.description
		}
		if a := f.attributes(); a != nil {
			item["attributes"] = a
		}
		fields = append(fields, item)
	}
	return map[string]any{"fields": fields, "errors": errs}, nil
}

// fieldOptionsInput is the BatchPutFieldOptions request.
type fieldOptionsInput struct {
	DomainID string        `json:"domainId"`
	FieldID  string        `json:"fieldId"`
	Options  []FieldOption `json:"options"`
}

// batchPutFieldOptions serves BatchPutFieldOptions: each option is added, or
// replaces the option with the same value. Only SingleSelect fields have
// options; for any other type the call is a ValidationException.
func (s *Server) batchPutFieldOptions(c *call) (any, *apiError) {
	var in fieldOptionsInput
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
	f, aerr := d.field(in.FieldID)
	if aerr != nil {
		return nil, aerr
	}
	if f.typ != FieldTypeSingleSelect {
		return nil, validationError("Field '%s' is of type %s; only SingleSelect fields have options", f.id, f.typ)
	}
	for _, o := range in.Options {
		f.putOption(o)
	}
	f.modified = s.now()
	return map[string]any{"errors": []any{}}, nil
}

// listFieldOptionsInput is the ListFieldOptions request.
type listFieldOptionsInput struct {
	listInput
	FieldID string   `json:"fieldId"`
	Values  []string `json:"values"`
}

// listFieldOptions serves ListFieldOptions, active and inactive options in
// the order they were added, filtered by values when given.
func (s *Server) listFieldOptions(c *call) (any, *apiError) {
	var in listFieldOptionsInput
	if aerr := bindInput(c.input, &in); aerr != nil {
		return nil, aerr
	}
	st := s.store
	st.mu.RLock()
	d, aerr := st.domain(in.DomainID)
	if aerr != nil {
		st.mu.RUnlock()
		return nil, aerr
	}
	f, aerr := d.field(in.FieldID)
	if aerr != nil {
		st.mu.RUnlock()
		return nil, aerr
	}
	all := make([]FieldOption, 0, len(f.options))
	for _, o := range f.options {
		if len(in.Values) == 0 || slices.Contains(in.Values, o.Value) {
			all = append(all, o)
		}
	}
	st.mu.RUnlock()
	items, next, aerr := paginate(all, "ListFieldOptions", in.NextToken, pageSize(in.MaxResults, 100))
	if aerr != nil {
		return nil, aerr
	}
	out := map[string]any{"options": items}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}
