package emulator

import (
	"errors"
	"fmt"
	"strings"
)

// Principal is a set of credentials the emulator accepts and what they may do.
type Principal struct {
	// AccessKeyID identifies the credentials, as in the Credential of a
	// SigV4 Authorization header.
	AccessKeyID string `json:"accessKeyId"`
	// SecretAccessKey is the secret the request must be signed with.
	SecretAccessKey string `json:"secretAccessKey"`
	// Actions are the IAM actions allowed, such as "cases:UpdateCase"; "*"
	// matches any text, so "*" and "cases:*" allow every action.
	Actions []string `json:"actions"`
	// Domains are the domain ids the principal may act on; "*" matches any
	// text. Operations without a domain (CreateDomain, ListDomains) need
	// only the action.
	Domains []string `json:"domains"`
}

// validate checks that the principal is usable and names known actions.
func (p Principal) validate() error {
	if p.AccessKeyID == "" {
		return errors.New("accessKeyId must be set")
	}
	if p.SecretAccessKey == "" {
		return fmt.Errorf("principal %q: secretAccessKey must be set", p.AccessKeyID)
	}
	if len(p.Actions) == 0 {
		return fmt.Errorf("principal %q: actions must list at least one action (\"*\" for all)", p.AccessKeyID)
	}
	for _, a := range p.Actions {
		if strings.Contains(a, "*") {
			continue
		}
		name, ok := strings.CutPrefix(a, "cases:")
		if !ok || name == "" {
			return fmt.Errorf("principal %q: action %q must look like cases:UpdateCase", p.AccessKeyID, a)
		}
		if model, err := getModel(); err == nil && model.operations[name] == nil {
			return fmt.Errorf("principal %q: action %q names no Connect Cases operation", p.AccessKeyID, a)
		}
	}
	if len(p.Domains) == 0 {
		return fmt.Errorf("principal %q: domains must list at least one domain id (\"*\" for all)", p.AccessKeyID)
	}
	return nil
}

// indexPrincipals validates principals and indexes them by access key id.
func indexPrincipals(list []Principal) (map[string]Principal, error) {
	out := make(map[string]Principal, len(list))
	for _, p := range list {
		if err := p.validate(); err != nil {
			return nil, fmt.Errorf("invalid principal: %w", err)
		}
		if _, dup := out[p.AccessKeyID]; dup {
			return nil, fmt.Errorf("invalid principal: access key id %q is configured twice", p.AccessKeyID)
		}
		p.Actions = append([]string(nil), p.Actions...)
		p.Domains = append([]string(nil), p.Domains...)
		out[p.AccessKeyID] = p
	}
	return out, nil
}

// authorize decides whether p may call operation on the domain (empty for
// operations without one), the way IAM would: the action must be allowed,
// and the domain id or ARN matched by one of the principal's domains.
func (s *Server) authorize(p Principal, operation, domainID string) *apiError {
	action := "cases:" + operation
	resource := "*"
	if domainID != "" {
		resource = fmt.Sprintf("arn:aws:cases:%s:%s:domain/%s", s.region, s.account, domainID)
	}
	denied := accessDenied("User is not authorized to perform: %s on resource: %s", action, resource)
	if !matchesAny(p.Actions, action) {
		return denied
	}
	if domainID != "" && !matchesAny(p.Domains, domainID) && !matchesAny(p.Domains, resource) {
		return denied
	}
	return nil
}

// matchesAny reports whether any pattern matches s.
func matchesAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if wildcardMatch(p, s) {
			return true
		}
	}
	return false
}

// wildcardMatch matches s against a pattern in which '*' stands for any run
// of characters, as in IAM policies; every other character is literal.
func wildcardMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, part := range parts[1 : len(parts)-1] {
		i := strings.Index(s, part)
		if i < 0 {
			return false
		}
		s = s[i+len(part):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}
