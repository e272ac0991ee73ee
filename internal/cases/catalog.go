package cases

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
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
// fields (ListFieldOptions). Objects of the same domain share the reads: a
// load in progress makes the others wait for it rather than repeat it.
type Catalog struct {
	api     CatalogAPI
	limiter *Limiter
	ttl     time.Duration
	maxWait time.Duration
	now     func() time.Time

	mu      sync.Mutex
	domains map[string]*domainCatalog
}

// domainCatalog is what the catalog knows of one domain. Its mutex is held
// during reads of the domain, so that concurrent lookups share them.
type domainCatalog struct {
	mu      sync.Mutex
	byID    map[string]cachedField
	unknown map[string]time.Time // ids BatchGetField did not find, and when
	listed  time.Time            // when the whole domain was listed; zero when never
	options map[string]cachedOptions
}

type cachedField struct {
	info    FieldInfo
	fetched time.Time
}

type cachedOptions struct {
	values  []string
	fetched time.Time
}

// NewCatalog returns a catalog reading through api, paced by limiter (nil
// for none), trusting reads for ttl, and blocking at most maxWait for a
// limiter slot.
func NewCatalog(api CatalogAPI, limiter *Limiter, ttl, maxWait time.Duration) *Catalog {
	if ttl <= 0 {
		ttl = DefaultCatalogTTL
	}
	return &Catalog{api: api, limiter: limiter, ttl: ttl, maxWait: maxWait, now: time.Now, domains: map[string]*domainCatalog{}}
}

// domain returns the catalog of a domain.
func (c *Catalog) domain(id string) *domainCatalog {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.domains[id]
	if !ok {
		d = &domainCatalog{byID: map[string]cachedField{}, unknown: map[string]time.Time{}, options: map[string]cachedOptions{}}
		c.domains[id] = d
	}
	return d
}

// Invalidate forgets what the catalog knows of a domain, so that the next
// lookup reads it again: after the service rejected a field, a rename or a
// new option must be seen at once rather than after the TTL.
func (c *Catalog) Invalidate(domainID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.domains, domainID)
}

// Fields looks up fields of a domain by id and by name. Fields that do not
// exist are absent from the maps.
func (c *Catalog) Fields(ctx context.Context, domainID string, ids, names []string) (byID, byName map[string]FieldInfo, err error) {
	d := c.domain(domainID)
	d.mu.Lock()
	defer d.mu.Unlock()
	now := c.now()
	fresh := func(t time.Time) bool { return !t.IsZero() && now.Sub(t) < c.ttl }

	if len(names) > 0 && !fresh(d.listed) {
		if err := c.listFields(ctx, domainID, d, now); err != nil {
			return nil, nil, err
		}
	}
	var missing []string
	for _, id := range ids {
		f, known := d.byID[id]
		switch {
		case known && fresh(f.fetched), fresh(d.listed), fresh(d.unknown[id]):
		default:
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		if err := c.batchGetFields(ctx, domainID, d, missing, now); err != nil {
			return nil, nil, err
		}
	}

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
	return byID, byName, nil
}

// listFields reads every field of the domain, page by page.
func (c *Catalog) listFields(ctx context.Context, domainID string, d *domainCatalog, now time.Time) error {
	in := &connectcases.ListFieldsInput{DomainId: aws.String(domainID), MaxResults: aws.Int32(100)}
	fields := map[string]cachedField{}
	for {
		if err := c.wait(ctx, "ListFields", domainID); err != nil {
			return err
		}
		out, err := c.api.ListFields(ctx, in)
		c.observe("ListFields", err)
		if err != nil {
			return err
		}
		for _, f := range out.Fields {
			info := FieldInfo{ID: aws.ToString(f.FieldId), Name: aws.ToString(f.Name), Type: string(f.Type)}
			fields[info.ID] = cachedField{info: info, fetched: now}
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	d.byID = fields
	d.unknown = map[string]time.Time{}
	d.listed = now
	return nil
}

// batchGetFields reads the given fields, 50 ids per call.
func (c *Catalog) batchGetFields(ctx context.Context, domainID string, d *domainCatalog, ids []string, now time.Time) error {
	for start := 0; start < len(ids); start += batchGetFieldMax {
		batch := ids[start:min(start+batchGetFieldMax, len(ids))]
		in := &connectcases.BatchGetFieldInput{DomainId: aws.String(domainID)}
		for _, id := range batch {
			in.Fields = append(in.Fields, types.FieldIdentifier{Id: aws.String(id)})
		}
		if err := c.wait(ctx, "BatchGetField", domainID); err != nil {
			return err
		}
		out, err := c.api.BatchGetField(ctx, in)
		c.observe("BatchGetField", err)
		if err != nil {
			return err
		}
		for _, id := range batch {
			delete(d.byID, id)
			d.unknown[id] = now
		}
		for _, f := range out.Fields {
			info := FieldInfo{ID: aws.ToString(f.FieldId), Name: aws.ToString(f.Name), Type: string(f.Type)}
			d.byID[info.ID] = cachedField{info: info, fetched: now}
			delete(d.unknown, info.ID)
		}
	}
	return nil
}

// ActiveOptions returns the values of the active options of a SingleSelect
// field, following ListFieldOptions' pages.
func (c *Catalog) ActiveOptions(ctx context.Context, domainID, fieldID string) ([]string, error) {
	d := c.domain(domainID)
	d.mu.Lock()
	defer d.mu.Unlock()
	now := c.now()
	if o, ok := d.options[fieldID]; ok && now.Sub(o.fetched) < c.ttl {
		return o.values, nil
	}
	in := &connectcases.ListFieldOptionsInput{DomainId: aws.String(domainID), FieldId: aws.String(fieldID), MaxResults: aws.Int32(100)}
	var values []string
	for {
		if err := c.wait(ctx, "ListFieldOptions", domainID); err != nil {
			return nil, err
		}
		out, err := c.api.ListFieldOptions(ctx, in)
		c.observe("ListFieldOptions", err)
		if err != nil {
			return nil, err
		}
		for _, o := range out.Options {
			if aws.ToBool(o.Active) {
				values = append(values, aws.ToString(o.Value))
			}
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	d.options[fieldID] = cachedOptions{values: values, fetched: now}
	return values, nil
}

// wait takes a limiter slot for a read of a domain, waiting at most maxWait.
func (c *Catalog) wait(ctx context.Context, operation, domainID string) error {
	if c.limiter == nil {
		return nil
	}
	key := "catalog/" + domainID
	wait := c.limiter.Acquire(operation, key)
	if wait <= 0 {
		return nil
	}
	if wait > c.maxWait {
		return &RateLimitedError{Wait: wait}
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	}
	if again := c.limiter.Acquire(operation, key); again > 0 {
		return &RateLimitedError{Wait: again}
	}
	return nil
}

// observe feeds a read's answer to the limiter.
func (c *Catalog) observe(operation string, err error) {
	if c.limiter != nil && !isNoAnswer(err) {
		c.limiter.Observe(operation, err != nil && IsThrottle(err))
	}
}

// isNoAnswer reports whether a call failed without an answer of the service.
func isNoAnswer(err error) bool {
	return err != nil && HTTPStatusFromError(err) == 0
}
