package emulator

import (
	"fmt"
	"time"
)

// State is a snapshot of the emulator's store.
type State struct {
	// Domains are the domains in creation order.
	Domains []DomainState `json:"domains"`
}

// DomainState is a domain in a State.
type DomainState struct {
	// ID is the domain id.
	ID string `json:"id"`
	// ARN is the domain ARN.
	ARN string `json:"arn"`
	// Name is the domain name.
	Name string `json:"name"`
	// CreatedTime is when the domain was created or seeded.
	CreatedTime time.Time `json:"createdTime"`
	// Fields are the domain's fields in creation order.
	Fields []FieldState `json:"fields"`
	// Templates are the domain's templates in creation order.
	Templates []TemplateState `json:"templates"`
	// Cases are the domain's cases in creation order.
	Cases []CaseState `json:"cases"`
}

// FieldState is a field in a State.
type FieldState struct {
	// ID is the field id.
	ID string `json:"id"`
	// ARN is the field ARN.
	ARN string `json:"arn"`
	// Name is the field name.
	Name string `json:"name"`
	// Type is the field type.
	Type string `json:"type"`
	// Description describes the field.
	Description string `json:"description,omitempty"`
	// Namespace is System or Custom.
	Namespace string `json:"namespace"`
	// Options are the options of a SingleSelect field.
	Options []FieldOption `json:"options,omitempty"`
}

// TemplateState is a template in a State.
type TemplateState struct {
	// ID is the template id.
	ID string `json:"id"`
	// ARN is the template ARN.
	ARN string `json:"arn"`
	// Name is the template name.
	Name string `json:"name"`
	// Status is Active or Inactive.
	Status string `json:"status"`
	// RequiredFields are the ids of the fields the template requires.
	RequiredFields []string `json:"requiredFields,omitempty"`
}

// CaseState is a case in a State.
type CaseState struct {
	// ID is the case id.
	ID string `json:"id"`
	// ARN is the case ARN.
	ARN string `json:"arn"`
	// TemplateID is the case's template.
	TemplateID string `json:"templateId"`
	// Fields are the case's values by field id; fields without a value are
	// absent.
	Fields map[string]FieldValue `json:"fields"`
	// LastModifiedTime is when a value last changed.
	LastModifiedTime time.Time `json:"lastModifiedTime"`
}

// State returns a snapshot of the store.
func (s *Server) State() State {
	st := s.store
	st.mu.RLock()
	defer st.mu.RUnlock()
	out := State{Domains: make([]DomainState, 0, len(st.order))}
	for _, id := range st.order {
		d := st.domains[id]
		ds := DomainState{ID: d.id, ARN: d.arn, Name: d.name, CreatedTime: d.created,
			Fields: []FieldState{}, Templates: []TemplateState{}, Cases: []CaseState{}}
		for _, fid := range d.fieldOrder {
			f := d.fields[fid]
			ds.Fields = append(ds.Fields, FieldState{ID: f.id, ARN: f.arn, Name: f.name, Type: f.typ,
				Description: f.description, Namespace: f.namespace, Options: append([]FieldOption(nil), f.options...)})
		}
		for _, tid := range d.templateOrder {
			t := d.templates[tid]
			ds.Templates = append(ds.Templates, TemplateState{ID: t.id, ARN: t.arn, Name: t.name, Status: t.status,
				RequiredFields: append([]string(nil), t.requiredFields...)})
		}
		for _, cid := range d.caseOrder {
			c := d.cases[cid]
			ds.Cases = append(ds.Cases, CaseState{ID: c.id, ARN: c.arn, TemplateID: c.templateID,
				Fields: cloneValues(c.fields), LastModifiedTime: c.modified})
		}
		out.Domains = append(out.Domains, ds)
	}
	return out
}

// cloneValues deep-copies a value map.
func cloneValues(m map[string]FieldValue) map[string]FieldValue {
	out := make(map[string]FieldValue, len(m))
	for k, v := range m {
		out[k] = v.clone()
	}
	return out
}

// CaseFields returns the stored values of a case by field id, and whether
// the case exists. Fields without a value are absent.
func (s *Server) CaseFields(domainID, caseID string) (map[string]FieldValue, bool) {
	st := s.store
	st.mu.RLock()
	defer st.mu.RUnlock()
	d, ok := st.domains[domainID]
	if !ok {
		return nil, false
	}
	c, ok := d.cases[caseID]
	if !ok {
		return nil, false
	}
	return cloneValues(c.fields), true
}

// SetCaseField changes one value of a case out of band, as a person editing
// the case in the console would: it is not a call, is not counted, and skips
// authentication, faults and quotas. The value must fit the field as it
// would in UpdateCase; an emptyValue clears the field.
func (s *Server) SetCaseField(domainID, caseID, fieldID string, v FieldValue) error {
	return s.setCaseFields(domainID, caseID, []string{fieldID}, []FieldValue{v})
}

// setCaseFields changes values of a case out of band, all or none.
func (s *Server) setCaseFields(domainID, caseID string, ids []string, values []FieldValue) error {
	wrap := func(err error) error {
		return fmt.Errorf("failed to set fields of case %q in domain %q: %w", caseID, domainID, err)
	}
	for i, v := range values {
		if err := checkFieldValueShape(v); err != nil {
			return wrap(fmt.Errorf("invalid value for field %q: %w", ids[i], err))
		}
	}
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	d, aerr := st.domain(domainID)
	if aerr != nil {
		return wrap(aerr)
	}
	c, aerr := d.getCase(caseID)
	if aerr != nil {
		return wrap(aerr)
	}
	if aerr := d.checkValues(d.templates[c.templateID], ids, values); aerr != nil {
		return wrap(aerr)
	}
	c.apply(ids, values, s.now())
	return nil
}

// apply stores values on the case; an emptyValue removes the field's value.
// The caller has checked the values and holds the write lock.
func (c *caseRecord) apply(ids []string, values []FieldValue, now time.Time) {
	for i, id := range ids {
		if values[i].Empty {
			delete(c.fields, id)
		} else {
			c.fields[id] = values[i].clone()
		}
	}
	c.modified = now
}

// SetFaults replaces the injected faults. Faults that fail Fault.Validate
// never fire; the admin API refuses them instead.
func (s *Server) SetFaults(f []Fault) {
	valid := make([]Fault, 0, len(f))
	for _, x := range f {
		if x.Validate() == nil {
			valid = append(valid, x)
		}
	}
	s.faults.set(valid)
}

// Faults returns the faults in force; counted faults show what remains.
func (s *Server) Faults() []Fault {
	return s.faults.list()
}

// SetQuota replaces an operation's quota; an RPS of zero disables it. An
// operation the emulator does not serve is ignored.
func (s *Server) SetQuota(operation string, q Quota) {
	_ = s.quotas.set(operation, q)
}

// Quotas returns the quota of every served operation.
func (s *Server) Quotas() map[string]Quota {
	return s.quotas.all()
}

// Reset restores the seed, forgets the calls and refills every quota bucket.
// Faults stay; ResetFaults restores the ones configured at start.
func (s *Server) Reset() {
	s.resetMu.Lock()
	defer s.resetMu.Unlock()
	fresh, err := buildStore(s.seed, s.region, s.account, s.now())
	if err != nil {
		// The seed was validated by New, so this cannot happen.
		s.log.Error("Failed to rebuild the store from the seed", "error", err)
		return
	}
	st := s.store
	st.mu.Lock()
	st.domains, st.order = fresh.domains, fresh.order
	st.mu.Unlock()
	s.calls.clear()
	s.quotas.refill()
}

// ResetFaults restores the faults given in Options, with fresh counts and
// random streams.
func (s *Server) ResetFaults() {
	s.faults.set(s.faults.initial)
}

// CallCount returns how many calls of an operation had an outcome ("OK", an
// error code, or "ConnectionReset"). An empty operation or outcome matches
// all.
func (s *Server) CallCount(operation, outcome string) int {
	return s.calls.count(operation, outcome)
}

// Calls returns the call counts and the most recent calls.
func (s *Server) Calls() CallStats {
	return s.calls.stats()
}

// RenameField changes the name of a field out of band, as UpdateField would:
// it is not a call and is not counted. The new name must not be taken by
// another field of the domain.
func (s *Server) RenameField(domainID, fieldID, name string) error {
	wrap := func(err error) error {
		return fmt.Errorf("failed to rename field %q in domain %q: %w", fieldID, domainID, err)
	}
	if name == "" {
		return wrap(fmt.Errorf("the name is empty"))
	}
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	d, aerr := st.domain(domainID)
	if aerr != nil {
		return wrap(aerr)
	}
	f, aerr := d.field(fieldID)
	if aerr != nil {
		return wrap(aerr)
	}
	for _, other := range d.fields {
		if other.id != fieldID && other.name == name {
			return wrap(fmt.Errorf("the name %q is taken by field %q", name, other.id))
		}
	}
	f.name = name
	f.modified = s.now()
	return nil
}
