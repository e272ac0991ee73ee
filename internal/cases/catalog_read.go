package cases

import (
	"context"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
)

// read is what one read of a domain fetches: the whole listing, some fields
// by id, or the options of one field.
type read struct {
	list    bool
	ids     []string
	options string
}

// empty reports whether there is nothing to read.
func (r read) empty() bool { return !r.list && len(r.ids) == 0 && r.options == "" }

// covers reports whether r reads all that need asks for.
func (r read) covers(need read) bool {
	switch {
	case need.list:
		return r.list
	case need.options != "":
		return r.options == need.options
	case r.list:
		return true
	default:
		for _, id := range need.ids {
			if !slices.Contains(r.ids, id) {
				return false
			}
		}
		return true
	}
}

// flight is a read in progress, shared by every lookup that waits for it.
type flight struct {
	read read
	done chan struct{}
	err  error
	// stored tells that the read succeeded and what it read was kept (no
	// invalidation came in the meantime).
	stored bool
}

// wait blocks until the read is done or ctx ends. It returns ctx's error
// when ctx ended first, and the read's error when the read failed and
// covered need: a failed read of something else is no answer for need, and
// the caller reads again. Giving up the wait leaves the read running for the
// others.
func (f *flight) wait(ctx context.Context, need read) error {
	select {
	case <-f.done:
		if f.err != nil && f.read.covers(need) {
			return f.err
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// readResult is what a read brought back, stored under the lock once the
// read is over.
type readResult struct {
	fields  []FieldInfo
	options []string
}

// startLocked returns the read of the domain in progress, or starts r and
// reports that it did. The read runs on its own goroutine, detached from the
// cancellation of the lookup that started it (its values, such as the
// logger, stay): a lookup that gives up does not fail the read for the
// others. c.mu must be held.
func (c *Catalog) startLocked(ctx context.Context, domainID string, d *domainCatalog, r read) (*flight, bool) {
	if d.reading != nil {
		return d.reading, false
	}
	f := &flight{read: r, done: make(chan struct{})}
	d.reading = f
	go c.run(context.WithoutCancel(ctx), domainID, d, r, f, d.epoch)
	return f, true
}

// run performs a read, stores what it read unless an invalidation of the
// domain or of single fields came in the meantime, and releases the lookups
// waiting for it.
func (c *Catalog) run(ctx context.Context, domainID string, d *domainCatalog, r read, f *flight, epoch uint64) {
	now := c.now()
	var res readResult
	var err error
	switch {
	case r.list:
		res.fields, err = c.listFields(ctx, domainID)
	case len(r.ids) > 0:
		res.fields, err = c.batchGetFields(ctx, domainID, r.ids)
	default:
		res.options, err = c.listActiveOptions(ctx, domainID, r.options)
	}
	c.mu.Lock()
	if err == nil && d.epoch == epoch && c.domains[domainID] == d {
		d.store(r, res, now)
		f.stored = true
	}
	d.reading = nil
	f.err = err
	c.mu.Unlock()
	close(f.done)
}

// store keeps what a read brought back; the catalog's lock must be held.
func (d *domainCatalog) store(r read, res readResult, now time.Time) {
	switch {
	case r.list:
		d.byID = map[string]cachedField{}
		for _, info := range res.fields {
			d.byID[info.ID] = cachedField{info: info, fetched: now}
		}
		d.unknown = map[string]time.Time{}
		d.stale = map[string]bool{}
		d.listed = now
	case len(r.ids) > 0:
		for _, id := range r.ids {
			delete(d.byID, id)
			delete(d.stale, id)
			d.unknown[id] = now
		}
		for _, info := range res.fields {
			d.byID[info.ID] = cachedField{info: info, fetched: now}
			delete(d.unknown, info.ID)
		}
	default:
		d.options[r.options] = cachedOptions{values: res.options, fetched: now}
	}
}

// call runs one call to the service under the catalog's call timeout.
func (c *Catalog) call(ctx context.Context, do func(ctx context.Context) error) error {
	callCtx, cancel := context.WithTimeout(ctx, c.callTimeout)
	defer cancel()
	return do(callCtx)
}

// listFields reads every field of the domain, page by page.
func (c *Catalog) listFields(ctx context.Context, domainID string) ([]FieldInfo, error) {
	in := &connectcases.ListFieldsInput{DomainId: aws.String(domainID), MaxResults: aws.Int32(100)}
	var fields []FieldInfo
	for {
		sent, err := c.wait(ctx, "ListFields", domainID)
		if err != nil {
			return nil, err
		}
		var out *connectcases.ListFieldsOutput
		err = c.call(ctx, func(ctx context.Context) (err error) {
			out, err = c.api.ListFields(ctx, in)
			return err
		})
		c.observe("ListFields", sent, err)
		if err != nil {
			return nil, err
		}
		for _, f := range out.Fields {
			fields = append(fields, FieldInfo{ID: aws.ToString(f.FieldId), Name: aws.ToString(f.Name), Type: string(f.Type)})
		}
		if aws.ToString(out.NextToken) == "" {
			return fields, nil
		}
		in.NextToken = out.NextToken
	}
}

// batchGetFields reads the given fields, 50 ids per call.
func (c *Catalog) batchGetFields(ctx context.Context, domainID string, ids []string) ([]FieldInfo, error) {
	var fields []FieldInfo
	for start := 0; start < len(ids); start += batchGetFieldMax {
		batch := ids[start:min(start+batchGetFieldMax, len(ids))]
		in := &connectcases.BatchGetFieldInput{DomainId: aws.String(domainID)}
		for _, id := range batch {
			in.Fields = append(in.Fields, types.FieldIdentifier{Id: aws.String(id)})
		}
		sent, err := c.wait(ctx, "BatchGetField", domainID)
		if err != nil {
			return nil, err
		}
		var out *connectcases.BatchGetFieldOutput
		err = c.call(ctx, func(ctx context.Context) (err error) {
			out, err = c.api.BatchGetField(ctx, in)
			return err
		})
		c.observe("BatchGetField", sent, err)
		if err != nil {
			return nil, err
		}
		for _, f := range out.Fields {
			fields = append(fields, FieldInfo{ID: aws.ToString(f.FieldId), Name: aws.ToString(f.Name), Type: string(f.Type)})
		}
	}
	return fields, nil
}

// listActiveOptions reads the active options of a field, page by page.
func (c *Catalog) listActiveOptions(ctx context.Context, domainID, fieldID string) ([]string, error) {
	in := &connectcases.ListFieldOptionsInput{DomainId: aws.String(domainID), FieldId: aws.String(fieldID), MaxResults: aws.Int32(100)}
	var values []string
	for {
		sent, err := c.wait(ctx, "ListFieldOptions", domainID)
		if err != nil {
			return nil, err
		}
		var out *connectcases.ListFieldOptionsOutput
		err = c.call(ctx, func(ctx context.Context) (err error) {
			out, err = c.api.ListFieldOptions(ctx, in)
			return err
		})
		c.observe("ListFieldOptions", sent, err)
		if err != nil {
			return nil, err
		}
		for _, o := range out.Options {
			if aws.ToBool(o.Active) {
				values = append(values, aws.ToString(o.Value))
			}
		}
		if aws.ToString(out.NextToken) == "" {
			return values, nil
		}
		in.NextToken = out.NextToken
	}
}

// wait takes a limiter slot for a read of a domain, waiting at most maxWait,
// and returns when the read is sent, on the limiter's clock.
func (c *Catalog) wait(ctx context.Context, operation, domainID string) (time.Time, error) {
	if c.limiter == nil {
		return time.Time{}, nil
	}
	key := "catalog/" + domainID
	wait := c.limiter.Acquire(operation, key)
	if wait <= 0 {
		return c.limiter.Now(), nil
	}
	if wait > c.maxWait {
		return time.Time{}, &RateLimitedError{Wait: wait}
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	case <-t.C:
	}
	if again := c.limiter.Acquire(operation, key); again > 0 {
		return time.Time{}, &RateLimitedError{Wait: again}
	}
	return c.limiter.Now(), nil
}

// observe feeds a read's answer to the limiter, with IsThrottle deciding
// what a throttle is.
func (c *Catalog) observe(operation string, sent time.Time, err error) {
	if c.limiter != nil && !isNoAnswer(err) {
		c.limiter.Observe(operation, sent, err != nil && IsThrottle(err))
	}
}

// isNoAnswer reports whether a call failed without an answer of the service.
func isNoAnswer(err error) bool {
	return err != nil && HTTPStatusFromError(err) == 0
}
