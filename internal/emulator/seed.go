package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"sigs.k8s.io/yaml"
)

// Seed is the initial state of the emulator, usually loaded from YAML.
type Seed struct {
	// Principals are credentials accepted in addition to Options.Principals.
	Principals []Principal `json:"principals,omitempty"`
	// Domains are the Cases domains and what they hold.
	Domains []SeedDomain `json:"domains,omitempty"`
	// Accounts are AWS accounts with IAM users and roles, for STS.
	Accounts []SeedAccount `json:"accounts,omitempty"`
}

// SeedDomain is a domain of the seed.
type SeedDomain struct {
	// ID is the domain id used in paths.
	ID string `json:"id"`
	// Name is the domain's name.
	Name string `json:"name"`
	// Fields are the domain's fields.
	Fields []SeedField `json:"fields,omitempty"`
	// Templates are the domain's case templates.
	Templates []SeedTemplate `json:"templates,omitempty"`
	// Cases are the domain's cases.
	Cases []SeedCase `json:"cases,omitempty"`
}

// SeedField is a field of a seed domain.
type SeedField struct {
	// ID is the field id cases use.
	ID string `json:"id"`
	// Name is the field's display name.
	Name string `json:"name"`
	// Type is one of Text, Number, Boolean, DateTime, SingleSelect, Url, User.
	Type string `json:"type"`
	// Description describes the field.
	Description string `json:"description,omitempty"`
	// Options are the options of a SingleSelect field.
	Options []SeedOption `json:"options,omitempty"`
}

// SeedOption is an option of a SingleSelect seed field.
type SeedOption struct {
	// Name is the option's display name.
	Name string `json:"name"`
	// Value is the stringValue cases store.
	Value string `json:"value"`
	// Active reports whether cases may take the value; unset means true.
	Active *bool `json:"active,omitempty"`
}

// SeedTemplate is a case template of a seed domain.
type SeedTemplate struct {
	// ID is the template id.
	ID string `json:"id"`
	// Name is the template's name.
	Name string `json:"name"`
	// Description describes the template.
	Description string `json:"description,omitempty"`
	// Status is Active or Inactive; unset means Active.
	Status string `json:"status,omitempty"`
	// RequiredFields are the ids of fields every case of the template must
	// have a value for.
	RequiredFields []string `json:"requiredFields,omitempty"`
}

// SeedCase is a case of a seed domain.
type SeedCase struct {
	// ID is the case id.
	ID string `json:"id"`
	// TemplateID is the template the case was created from.
	TemplateID string `json:"templateId"`
	// Fields are the case's values by field id.
	Fields map[string]FieldValue `json:"fields,omitempty"`
}

// LoadSeed reads and validates a YAML (or JSON) seed file.
func LoadSeed(path string) (*Seed, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read seed file: %w", err)
	}
	seed, err := ParseSeed(data)
	if err != nil {
		return nil, fmt.Errorf("invalid seed file %q: %w", path, err)
	}
	return seed, nil
}

// ParseSeed decodes and validates a YAML (or JSON) seed. Unknown keys are
// errors, so that a misspelt key does not silently drop data.
func ParseSeed(data []byte) (*Seed, error) {
	var seed Seed
	if err := yaml.UnmarshalStrict(data, &seed); err != nil {
		return nil, fmt.Errorf("failed to decode seed: %w", err)
	}
	if err := seed.Validate(); err != nil {
		return nil, err
	}
	return &seed, nil
}

// Validate checks the seed: identifiers and names against the model's
// constraints, unique ids and names, known field types, options only on
// SingleSelect fields, references to existing fields and templates, values
// that fit their fields, and required fields present on every case.
func (s *Seed) Validate() error {
	if _, err := indexPrincipals(s.Principals); err != nil {
		return err
	}
	if _, err := newIAM(s); err != nil {
		return err
	}
	_, err := buildStore(s, "us-east-1", DefaultAccountID, time.Unix(0, 0))
	return err
}

// buildStore builds a store from a seed, validating it on the way.
func buildStore(seed *Seed, region, account string, now time.Time) (*store, error) {
	st := newStore(region, account)
	if seed == nil {
		return st, nil
	}
	for _, sd := range seed.Domains {
		if _, dup := st.domains[sd.ID]; dup {
			return nil, fmt.Errorf("domain %q is defined twice", sd.ID)
		}
		d, err := seedDomain(st, sd, now)
		if err != nil {
			return nil, fmt.Errorf("domain %q: %w", sd.ID, err)
		}
		st.addDomain(d)
	}
	return st, nil
}

// seedDomain builds one domain of the seed.
func seedDomain(st *store, sd SeedDomain, now time.Time) (*domain, error) {
	if err := checkShape("DomainId", "id", sd.ID); err != nil {
		return nil, err
	}
	if err := checkShape("DomainName", "name", sd.Name); err != nil {
		return nil, err
	}
	d := st.newDomain(sd.ID, sd.Name, now)
	for _, sf := range sd.Fields {
		f, err := seedField(d, sf, now)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", sf.ID, err)
		}
		d.addField(f)
	}
	for _, stpl := range sd.Templates {
		t, err := seedTemplate(d, stpl, now)
		if err != nil {
			return nil, fmt.Errorf("template %q: %w", stpl.ID, err)
		}
		d.addTemplate(t)
	}
	for _, sc := range sd.Cases {
		c, err := seedCase(d, sc, now)
		if err != nil {
			return nil, fmt.Errorf("case %q: %w", sc.ID, err)
		}
		d.addCase(c)
	}
	return d, nil
}

// seedField builds one field of a seed domain.
func seedField(d *domain, sf SeedField, now time.Time) (*field, error) {
	for _, c := range []struct{ shape, path, v string }{
		{"FieldId", "id", sf.ID}, {"FieldName", "name", sf.Name}, {"FieldType", "type", sf.Type}, {"FieldDescription", "description", sf.Description},
	} {
		if err := checkShape(c.shape, c.path, c.v); err != nil {
			return nil, err
		}
	}
	if _, dup := d.fields[sf.ID]; dup {
		return nil, errors.New("the id is used by another field")
	}
	if d.fieldByName(sf.Name) != nil {
		return nil, fmt.Errorf("the name %q is used by another field", sf.Name)
	}
	if len(sf.Options) > 0 && sf.Type != FieldTypeSingleSelect {
		return nil, fmt.Errorf("only SingleSelect fields have options, this one is %s", sf.Type)
	}
	f := &field{id: sf.ID, arn: d.childARN("field", sf.ID), name: sf.Name, typ: sf.Type,
		description: sf.Description, namespace: "Custom", created: now, modified: now}
	for _, so := range sf.Options {
		if err := checkShape("FieldOptionName", "options.name", so.Name); err != nil {
			return nil, err
		}
		if err := checkShape("FieldOptionValue", "options.value", so.Value); err != nil {
			return nil, err
		}
		for _, o := range f.options {
			if o.Value == so.Value {
				return nil, fmt.Errorf("option value %q is defined twice", so.Value)
			}
		}
		f.options = append(f.options, FieldOption{Name: so.Name, Value: so.Value, Active: so.Active == nil || *so.Active})
	}
	return f, nil
}

// seedTemplate builds one template of a seed domain.
func seedTemplate(d *domain, stpl SeedTemplate, now time.Time) (*template, error) {
	status := stpl.Status
	if status == "" {
		status = "Active"
	}
	for _, c := range []struct{ shape, path, v string }{
		{"TemplateId", "id", stpl.ID}, {"TemplateName", "name", stpl.Name}, {"TemplateDescription", "description", stpl.Description}, {"TemplateStatus", "status", status},
	} {
		if err := checkShape(c.shape, c.path, c.v); err != nil {
			return nil, err
		}
	}
	if _, dup := d.templates[stpl.ID]; dup {
		return nil, errors.New("the id is used by another template")
	}
	if d.templateByName(stpl.Name) != nil {
		return nil, fmt.Errorf("the name %q is used by another template", stpl.Name)
	}
	for _, id := range stpl.RequiredFields {
		if _, ok := d.fields[id]; !ok {
			return nil, fmt.Errorf("required field %q is not a field of the domain", id)
		}
	}
	return &template{id: stpl.ID, arn: d.childARN("template", stpl.ID), name: stpl.Name, description: stpl.Description,
		status: status, requiredFields: append([]string(nil), stpl.RequiredFields...), created: now}, nil
}

// seedCase builds one case of a seed domain.
func seedCase(d *domain, sc SeedCase, now time.Time) (*caseRecord, error) {
	if err := checkShape("CaseId", "id", sc.ID); err != nil {
		return nil, err
	}
	if _, dup := d.cases[sc.ID]; dup {
		return nil, errors.New("the id is used by another case")
	}
	t, ok := d.templates[sc.TemplateID]
	if !ok {
		return nil, fmt.Errorf("template %q is not a template of the domain", sc.TemplateID)
	}
	c := &caseRecord{id: sc.ID, arn: d.childARN("case", sc.ID), templateID: t.id, fields: map[string]FieldValue{},
		created: now, modified: now}
	ids, values := sortedValues(sc.Fields)
	for i, id := range ids {
		if err := checkFieldValueShape(values[i]); err != nil {
			return nil, fmt.Errorf("field %q: %w", id, err)
		}
	}
	if aerr := d.checkValues(t, ids, values); aerr != nil {
		return nil, errors.New(aerr.message)
	}
	for i, id := range ids {
		if !values[i].Empty {
			c.fields[id] = values[i].clone()
		}
	}
	for _, id := range t.requiredFields {
		if _, ok := c.fields[id]; !ok {
			return nil, fmt.Errorf("field %q is required by template %q but has no value", id, t.id)
		}
	}
	return c, nil
}

// sortedValues splits a value map into ids in sorted order and their values.
func sortedValues(m map[string]FieldValue) ([]string, []FieldValue) {
	ids := sortedKeys(m)
	values := make([]FieldValue, len(ids))
	for i, id := range ids {
		values[i] = m[id]
	}
	return ids, values
}

// checkShape validates a value against a shape of the model, as a request
// member of that shape would be.
func checkShape(shapeName, path string, val any) error {
	m, err := getModel()
	if err != nil {
		return err
	}
	s, ok := m.shapes[modelNamespace+shapeName]
	if !ok {
		return fmt.Errorf("shape %s is not in the service model", shapeName)
	}
	v := &validator{}
	v.check(path, &member{name: path, target: s, c: s.traits}, val, true)
	if v.serr != nil {
		return errors.New(v.serr.message)
	}
	if len(v.violations) > 0 {
		return errors.New(v.result().message)
	}
	return nil
}

// checkFieldValueShape validates a field value against the model's
// FieldValueUnion, which bounds stringValue to 4100 characters.
func checkFieldValueShape(fv FieldValue) error {
	data, err := json.Marshal(fv)
	if err != nil {
		return err
	}
	tree, aerr := parseJSON(data)
	if aerr != nil {
		return errors.New(aerr.message)
	}
	return checkShape("FieldValueUnion", "value", tree)
}
