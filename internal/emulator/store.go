package emulator

import (
	"crypto/rand"
	"fmt"
	"slices"
	"sync"
	"time"
)

// DefaultAccountID is the AWS account the emulator's ARNs name unless
// Options.AccountID says otherwise.
const DefaultAccountID = "123456789012"

// store is the in-memory state: domains and what they hold. One mutex guards
// all of it; operations are short and the emulator is not a database.
type store struct {
	mu      sync.RWMutex
	region  string
	account string
	domains map[string]*domain
	order   []string
}

// domain is a Cases domain with its fields, templates and cases, each kept in
// creation order for stable listings.
type domain struct {
	id, arn, name string
	created       time.Time
	tags          map[string]string
	fields        map[string]*field
	fieldOrder    []string
	templates     map[string]*template
	templateOrder []string
	cases         map[string]*caseRecord
	caseOrder     []string
	// clientTokens maps CreateCase idempotency tokens to the case they made.
	clientTokens map[string]string
}

// field is a case field. Options matter only to SingleSelect fields.
type field struct {
	id, arn, name, typ, description, namespace string
	multiline                                  *bool
	created, modified                          time.Time
	options                                    []FieldOption
}

// FieldOption is an option of a SingleSelect field.
type FieldOption struct {
	// Name is the option's display name.
	Name string `json:"name"`
	// Value is what a case stores as stringValue.
	Value string `json:"value"`
	// Active reports whether cases may take this value.
	Active bool `json:"active"`
}

// template is a case template; requiredFields are field ids.
type template struct {
	id, arn, name, description, status string
	requiredFields                     []string
	created                            time.Time
}

// caseRecord is a case: its template and its field values. A field without a
// value is absent from fields.
type caseRecord struct {
	id, arn, templateID string
	fields              map[string]FieldValue
	tags                map[string]string
	created, modified   time.Time
}

// newStore returns an empty store whose ARNs name region and account.
func newStore(region, account string) *store {
	return &store{region: region, account: account, domains: map[string]*domain{}}
}

// newDomain returns an empty domain.
func (st *store) newDomain(id, name string, created time.Time) *domain {
	return &domain{
		id: id, name: name, created: created,
		arn:          fmt.Sprintf("arn:aws:cases:%s:%s:domain/%s", st.region, st.account, id),
		fields:       map[string]*field{},
		templates:    map[string]*template{},
		cases:        map[string]*caseRecord{},
		clientTokens: map[string]string{},
	}
}

// addDomain stores d; the caller holds the write lock.
func (st *store) addDomain(d *domain) {
	st.domains[d.id] = d
	st.order = append(st.order, d.id)
}

// domain returns the domain or a ResourceNotFoundException; the caller holds
// a lock.
func (st *store) domain(id string) (*domain, *apiError) {
	d, ok := st.domains[id]
	if !ok {
		return nil, notFound(ResourceTypeDomain, id)
	}
	return d, nil
}

// childARN returns the ARN of a resource inside the domain.
func (d *domain) childARN(kind, id string) string {
	return fmt.Sprintf("%s/%s/%s", d.arn, kind, id)
}

// addField stores f; the caller holds the write lock.
func (d *domain) addField(f *field) {
	d.fields[f.id] = f
	d.fieldOrder = append(d.fieldOrder, f.id)
}

// addTemplate stores t; the caller holds the write lock.
func (d *domain) addTemplate(t *template) {
	d.templates[t.id] = t
	d.templateOrder = append(d.templateOrder, t.id)
}

// addCase stores c; the caller holds the write lock.
func (d *domain) addCase(c *caseRecord) {
	d.cases[c.id] = c
	d.caseOrder = append(d.caseOrder, c.id)
}

// field returns the field or a ResourceNotFoundException of type Field.
func (d *domain) field(id string) (*field, *apiError) {
	f, ok := d.fields[id]
	if !ok {
		return nil, notFound(ResourceTypeField, id)
	}
	return f, nil
}

// getCase returns the case or a ResourceNotFoundException of type Case.
func (d *domain) getCase(id string) (*caseRecord, *apiError) {
	c, ok := d.cases[id]
	if !ok {
		return nil, notFound(ResourceTypeCase, id)
	}
	return c, nil
}

// fieldByName returns the field with the given name, if any.
func (d *domain) fieldByName(name string) *field {
	for _, id := range d.fieldOrder {
		if d.fields[id].name == name {
			return d.fields[id]
		}
	}
	return nil
}

// templateByName returns the template with the given name, if any.
func (d *domain) templateByName(name string) *template {
	for _, id := range d.templateOrder {
		if d.templates[id].name == name {
			return d.templates[id]
		}
	}
	return nil
}

// hasActiveOption reports whether value is an active option of the field.
func (f *field) hasActiveOption(value string) bool {
	for _, o := range f.options {
		if o.Value == value {
			return o.Active
		}
	}
	return false
}

// putOption adds or replaces the option with the same value.
func (f *field) putOption(o FieldOption) {
	for i := range f.options {
		if f.options[i].Value == o.Value {
			f.options[i] = o
			return
		}
	}
	f.options = append(f.options, o)
}

// checkValues checks a set of field values for a case of template t: every id
// must be a field of the domain, every value must fit its field, and no
// required field may be cleared. It returns the first problem.
func (d *domain) checkValues(t *template, ids []string, values []FieldValue) *apiError {
	seen := make(map[string]bool, len(ids))
	for i, id := range ids {
		if seen[id] {
			return validationError("Field '%s' appears more than once in the request", id)
		}
		seen[id] = true
		f, err := d.field(id)
		if err != nil {
			return err
		}
		if err := checkFieldValue(f, values[i]); err != nil {
			return err
		}
		if values[i].Empty && t != nil && t.requires(id) {
			return validationError("Field '%s' is required by template '%s' and cannot be cleared with emptyValue", id, t.id)
		}
	}
	return nil
}

// requires reports whether the template requires the field.
func (t *template) requires(fieldID string) bool {
	return slices.Contains(t.requiredFields, fieldID)
}

// newUUID returns a random RFC 4122 version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
