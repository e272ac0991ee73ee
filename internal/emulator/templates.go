package emulator

import "slices"

// createTemplateInput is the CreateTemplate request; layout, rules and tag
// propagation are validated against the model but not kept.
type createTemplateInput struct {
	DomainID       string `json:"domainId"`
	Name           string `json:"name"`
	Description    string `json:"description"`
	Status         string `json:"status"`
	RequiredFields []struct {
		FieldID string `json:"fieldId"`
	} `json:"requiredFields"`
}

// createTemplate serves CreateTemplate. Every required field must be a field
// of the domain (otherwise ResourceNotFoundException of type Field); a name
// already in use is a ConflictException. Cases created from the template
// must give its required fields a value, and no call may clear them.
func (s *Server) createTemplate(c *call) (any, *apiError) {
	var in createTemplateInput
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
	if d.templateByName(in.Name) != nil {
		return nil, conflict("A template named %q already exists in domain %s", in.Name, d.id)
	}
	required := make([]string, 0, len(in.RequiredFields))
	for _, rf := range in.RequiredFields {
		if _, aerr := d.field(rf.FieldID); aerr != nil {
			return nil, aerr
		}
		if !slices.Contains(required, rf.FieldID) {
			required = append(required, rf.FieldID)
		}
	}
	status := in.Status
	if status == "" {
		status = "Active"
	}
	id := newUUID()
	t := &template{id: id, arn: d.childARN("template", id), name: in.Name, description: in.Description,
		status: status, requiredFields: required, created: s.now()}
	d.addTemplate(t)
	return map[string]any{"templateId": t.id, "templateArn": t.arn}, nil
}
