package cases

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/connectcases"
)

// CatalogAPI is the part of the Connect Cases API the field catalog reads.
// The SDK's *connectcases.Client implements it.
type CatalogAPI interface {
	ListFields(ctx context.Context, in *connectcases.ListFieldsInput, optFns ...func(*connectcases.Options)) (*connectcases.ListFieldsOutput, error)
	BatchGetField(ctx context.Context, in *connectcases.BatchGetFieldInput, optFns ...func(*connectcases.Options)) (*connectcases.BatchGetFieldOutput, error)
	ListFieldOptions(ctx context.Context, in *connectcases.ListFieldOptionsInput, optFns ...func(*connectcases.Options)) (*connectcases.ListFieldOptionsOutput, error)
}

// FieldInfo describes a field of a domain.
type FieldInfo struct {
	// ID is the field's identifier.
	ID string
	// Name is the field's name.
	Name string
	// Type is Text, Number, Boolean, DateTime, SingleSelect, Url or User.
	Type string
}

// DefaultCatalogTTL is how long the catalog trusts what it read.
const DefaultCatalogTTL = 10 * time.Minute

// DefaultCatalogCallTimeout bounds each call of the catalog to the service,
// SDK retries included, unless WithCallTimeout sets another bound.
const DefaultCatalogCallTimeout = 30 * time.Second

// batchGetFieldMax is the most ids one BatchGetField call takes.
const batchGetFieldMax = 50

// RateLimitedError reports that a read must wait for the client-side rate
// limiter longer than a worker may block: the caller retries after Wait.
type RateLimitedError struct {
	// Wait is how long until the reserved call slot.
	Wait time.Duration
}

// Error implements error.
func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("rate limited: retry in %s", e.Wait)
}

// Catalog caches, per domain and for a TTL, what the operator knows of the
// domain's fields: ids, names and types (BatchGetField for ids, a paged
// ListFields when names are needed) and the active options of SingleSelect
// fields (ListFieldOptions).
//
// Reads of a domain are single-flight: one read at a time per domain, which
// the lookups that need it share instead of repeating it. No lock is held
// across a call: a lookup waits for the read in progress as long as its own
// context allows, and every call has its own deadline, so that a domain
// whose calls hang holds no worker longer than that deadline and never holds
// the lookups of another domain.
type Catalog struct {
	api         CatalogAPI
	limiter     *Limiter
	ttl         time.Duration
	maxWait     time.Duration
	callTimeout time.Duration
	now         func() time.Time

	// mu guards domains and everything in them; it is never held across a
	// call to the service.
	mu      sync.Mutex
	domains map[string]*domainCatalog
}

// domainCatalog is what the catalog knows of one domain.
type domainCatalog struct {
	byID    map[string]cachedField
	unknown map[string]time.Time // ids BatchGetField did not find, and when
	listed  time.Time            // when the whole domain was listed; zero when never
	options map[string]cachedOptions
	// stale holds the ids forgotten by InvalidateField since the domain was
	// last listed: the listing no longer vouches for them.
	stale map[string]bool
	// epoch counts the invalidations of single fields and options; a read
	// that began before one does not store what it read.
	epoch uint64
	// reading is the read of the domain in progress, nil when none.
	reading *flight
}

type cachedField struct {
	info    FieldInfo
	fetched time.Time
}

type cachedOptions struct {
	values  []string
	fetched time.Time
}

// CatalogOption configures a Catalog.
type CatalogOption func(*Catalog)

// WithCallTimeout bounds each call of the catalog to the service (one page
// of ListFields, one BatchGetField, one page of ListFieldOptions), SDK
// retries included; the controller passes its own call timeout. Zero or
// less keeps DefaultCatalogCallTimeout.
func WithCallTimeout(d time.Duration) CatalogOption {
	return func(c *Catalog) {
		if d > 0 {
			c.callTimeout = d
		}
	}
}

// NewCatalog returns a catalog reading through api, paced by limiter (nil
// for none), trusting reads for ttl, and blocking at most maxWait for a
// limiter slot.
func NewCatalog(api CatalogAPI, limiter *Limiter, ttl, maxWait time.Duration, opts ...CatalogOption) *Catalog {
	if ttl <= 0 {
		ttl = DefaultCatalogTTL
	}
	c := &Catalog{api: api, limiter: limiter, ttl: ttl, maxWait: maxWait, callTimeout: DefaultCatalogCallTimeout,
		now: time.Now, domains: map[string]*domainCatalog{}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// domainLocked returns the catalog of a domain; c.mu must be held.
func (c *Catalog) domainLocked(id string) *domainCatalog {
	d, ok := c.domains[id]
	if !ok {
		d = &domainCatalog{byID: map[string]cachedField{}, unknown: map[string]time.Time{},
			options: map[string]cachedOptions{}, stale: map[string]bool{}}
		c.domains[id] = d
	}
	return d
}

// Invalidate forgets what the catalog knows of a domain, so that the next
// lookup reads it again. A read in progress finishes for those waiting on
// it, but what it read is not kept.
func (c *Catalog) Invalidate(domainID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.domains, domainID)
}

// InvalidateField forgets one field of a domain, its options included, so
// that the next lookup of it, by id or by name, reads it again: after the
// service rejected a value of that field, a rename, a new type or a new
// option must be seen at once rather than after the TTL. The rest of the
// domain stays cached.
func (c *Catalog) InvalidateField(domainID, fieldID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.domains[domainID]
	if !ok {
		return
	}
	delete(d.byID, fieldID)
	delete(d.unknown, fieldID)
	delete(d.options, fieldID)
	d.stale[fieldID] = true
	d.epoch++
}

// InvalidateFieldOptions forgets the options of one field of a domain, so
// that the next ActiveOptions of it reads them again.
func (c *Catalog) InvalidateFieldOptions(domainID, fieldID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d, ok := c.domains[domainID]; ok {
		delete(d.options, fieldID)
		d.epoch++
	}
}

// Fields looks up fields of a domain by id and by name. Fields that do not
// exist are absent from the maps. It waits for the reads it needs as long as
// ctx allows.
func (c *Catalog) Fields(ctx context.Context, domainID string, ids, names []string) (byID, byName map[string]FieldInfo, err error) {
	// answered is set once a read this lookup started has stored what it
	// read: that is the answer, even if a TTL shorter than the read made it
	// stale.
	answered := false
	for {
		c.mu.Lock()
		d := c.domainLocked(domainID)
		need := c.fieldsNeed(d, ids, names, c.now())
		if need.empty() || answered {
			byID, byName = fieldsFound(d, ids, names)
			c.mu.Unlock()
			return byID, byName, nil
		}
		f, started := c.startLocked(ctx, domainID, d, need)
		c.mu.Unlock()
		if err := f.wait(ctx, need); err != nil {
			return nil, nil, err
		}
		answered = started && f.stored
	}
}

// fieldsNeed returns the read that a lookup of ids and names needs; c.mu
// must be held.
func (c *Catalog) fieldsNeed(d *domainCatalog, ids, names []string, now time.Time) read {
	fresh := func(t time.Time) bool { return !t.IsZero() && now.Sub(t) < c.ttl }
	if len(names) > 0 && !fresh(d.listed) {
		return read{list: true}
	}
	var missing []string
	for _, id := range ids {
		f, known := d.byID[id]
		switch {
		case known && fresh(f.fetched), fresh(d.listed) && !d.stale[id], fresh(d.unknown[id]):
		case !slices.Contains(missing, id):
			missing = append(missing, id)
		}
	}
	if len(names) > 0 {
		// A forgotten field may carry one of the names: the listing no
		// longer says which.
		for _, id := range sortedSet(d.stale) {
			if !slices.Contains(missing, id) {
				missing = append(missing, id)
			}
		}
	}
	return read{ids: missing}
}

// fieldsFound returns the cached fields of ids and names; c.mu must be held.
func fieldsFound(d *domainCatalog, ids, names []string) (byID, byName map[string]FieldInfo) {
	byID, byName = map[string]FieldInfo{}, map[string]FieldInfo{}
	for _, id := range ids {
		if f, ok := d.byID[id]; ok {
			byID[id] = f.info
		}
	}
	if len(names) > 0 {
		wanted := map[string]bool{}
		for _, n := range names {
			wanted[n] = true
		}
		for _, f := range d.byID {
			if wanted[f.info.Name] {
				byName[f.info.Name] = f.info
			}
		}
	}
	return byID, byName
}

// ActiveOptions returns the values of the active options of a SingleSelect
// field, following ListFieldOptions' pages. It waits for the read as long as
// ctx allows.
func (c *Catalog) ActiveOptions(ctx context.Context, domainID, fieldID string) ([]string, error) {
	done := false
	for {
		c.mu.Lock()
		d := c.domainLocked(domainID)
		if o, ok := d.options[fieldID]; ok && (done || c.now().Sub(o.fetched) < c.ttl) {
			c.mu.Unlock()
			return o.values, nil
		}
		need := read{options: fieldID}
		f, started := c.startLocked(ctx, domainID, d, need)
		c.mu.Unlock()
		if err := f.wait(ctx, need); err != nil {
			return nil, err
		}
		done = started && f.stored
	}
}

// sortedSet returns the keys of a set in order.
func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
