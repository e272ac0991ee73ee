package emulator

import (
	"maps"
	"time"
)

// timeFormat is the Smithy date-time format AWS sends timestamps in.
const timeFormat = "2006-01-02T15:04:05.999Z"

// formatTime renders t as a Smithy date-time.
func formatTime(t time.Time) string {
	return t.UTC().Format(timeFormat)
}

// createDomainInput is the CreateDomain request.
type createDomainInput struct {
	Name string `json:"name"`
}

// createDomain serves CreateDomain: a new, active domain with a fresh id. A
// name already in use is a ConflictException.
func (s *Server) createDomain(c *call) (any, *apiError) {
	var in createDomainInput
	if aerr := bindInput(c.input, &in); aerr != nil {
		return nil, aerr
	}
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, id := range st.order {
		if st.domains[id].name == in.Name {
			return nil, conflict("A domain named %q already exists", in.Name)
		}
	}
	d := st.newDomain(newUUID(), in.Name, s.now())
	st.addDomain(d)
	return map[string]any{"domainId": d.id, "domainArn": d.arn, "domainStatus": "Active"}, nil
}

// domainInput is a request whose only member is the domain label.
type domainInput struct {
	DomainID string `json:"domainId"`
}

// getDomain serves GetDomain.
func (s *Server) getDomain(c *call) (any, *apiError) {
	var in domainInput
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
	return map[string]any{
		"domainId": d.id, "domainArn": d.arn, "name": d.name,
		"createdTime": formatTime(d.created), "domainStatus": "Active", "tags": nonNilTags(d.tags),
	}, nil
}

// listInput is the query of a paginated listing.
type listInput struct {
	DomainID   string `json:"domainId"`
	MaxResults *int   `json:"maxResults"`
	NextToken  string `json:"nextToken"`
}

// domainSummary is an item of ListDomains.
type domainSummary struct {
	DomainID  string `json:"domainId"`
	DomainArn string `json:"domainArn"`
	Name      string `json:"name"`
}

// listDomains serves ListDomains, every domain in creation order. The
// listing is not filtered by the caller's domains, as IAM does not.
func (s *Server) listDomains(c *call) (any, *apiError) {
	var in listInput
	if aerr := bindInput(c.input, &in); aerr != nil {
		return nil, aerr
	}
	st := s.store
	st.mu.RLock()
	all := make([]domainSummary, 0, len(st.order))
	for _, id := range st.order {
		d := st.domains[id]
		all = append(all, domainSummary{DomainID: d.id, DomainArn: d.arn, Name: d.name})
	}
	st.mu.RUnlock()
	items, next, aerr := paginate(all, "ListDomains", in.NextToken, pageSize(in.MaxResults, 10))
	if aerr != nil {
		return nil, aerr
	}
	out := map[string]any{"domains": items}
	if next != "" {
		out["nextToken"] = next
	}
	return out, nil
}

// nonNilTags returns a copy of tags, never nil so that JSON shows {}.
func nonNilTags(tags map[string]string) map[string]string {
	out := make(map[string]string, len(tags))
	maps.Copy(out, tags)
	return out
}
