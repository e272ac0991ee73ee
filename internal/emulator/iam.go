package emulator

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// SeedAccount is an AWS account of the seed: its users, who sign requests
// with long-term keys, and its roles, which STS AssumeRole hands out
// temporary credentials for.
type SeedAccount struct {
	// ID is the twelve-digit account id.
	ID string `json:"id"`
	// Users are the account's IAM users.
	Users []SeedUser `json:"users,omitempty"`
	// Roles are the account's IAM roles.
	Roles []SeedRole `json:"roles,omitempty"`
}

// SeedUser is an IAM user with one access key. Its ARN is
// arn:aws:iam::<account>:user/<name>.
type SeedUser struct {
	// Name is the user name.
	Name string `json:"name"`
	// AccessKeyID and SecretAccessKey are the user's long-term key.
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	// Actions and Domains are what the user may do in Connect Cases, as
	// for a Principal; empty means nothing (the user may still call STS).
	Actions []string `json:"actions,omitempty"`
	Domains []string `json:"domains,omitempty"`
}

// SeedRole is an IAM role. Its ARN is arn:aws:iam::<account>:role/<name>.
type SeedRole struct {
	// Name is the role name.
	Name string `json:"name"`
	// Trust lists who may assume the role: a caller may when one rule
	// matches it.
	Trust []TrustRule `json:"trust"`
	// Actions and Domains are what sessions of the role may do in Connect
	// Cases, as for a Principal.
	Actions []string `json:"actions,omitempty"`
	Domains []string `json:"domains,omitempty"`
	// SessionDuration, when set (Go duration syntax, such as "3s"), caps
	// the lifetime of the credentials issued for the role whatever
	// DurationSeconds asks. It exists so that tests can see credentials
	// expire; AWS has no such setting.
	SessionDuration string `json:"sessionDuration,omitempty"`
}

// TrustRule is one statement of a role's trust policy.
type TrustRule struct {
	// Principals are the callers the rule admits: an ARN (with '*'
	// wildcards), an account id, or arn:aws:iam::<account>:root for every
	// identity of that account.
	Principals []string `json:"principals"`
	// ExternalID, when set, must equal the ExternalId of the AssumeRole
	// request (the sts:ExternalId condition).
	ExternalID string `json:"externalId,omitempty"`
}

// accountIDPattern is the form of an AWS account id.
var accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)

// identity is who signed a request: a principal with its ARN and account.
type identity struct {
	principal Principal
	arn       string
	userID    string
	account   string
	// token and expires are set for temporary credentials only.
	token   string
	expires time.Time
}

// role is a seeded role ready for AssumeRole.
type role struct {
	arn      string
	name     string
	account  string
	trust    []TrustRule
	actions  []string
	domains  []string
	maxLife  time.Duration
	uniqueID string
}

// iamState holds the seeded users and roles and the sessions STS issued.
type iamState struct {
	mu       sync.Mutex
	users    map[string]identity
	roles    map[string]*role
	sessions map[string]identity
}

// newIAM builds the users and roles of seed, checking them.
func newIAM(seed *Seed) (*iamState, error) {
	st := &iamState{users: map[string]identity{}, roles: map[string]*role{}, sessions: map[string]identity{}}
	if seed == nil {
		return st, nil
	}
	seenAccount := map[string]bool{}
	for _, a := range seed.Accounts {
		if !accountIDPattern.MatchString(a.ID) {
			return nil, fmt.Errorf("invalid account: id %q must be twelve digits", a.ID)
		}
		if seenAccount[a.ID] {
			return nil, fmt.Errorf("invalid account: id %q is configured twice", a.ID)
		}
		seenAccount[a.ID] = true
		for _, u := range a.Users {
			if err := st.addUser(a.ID, u); err != nil {
				return nil, fmt.Errorf("invalid account %s: %w", a.ID, err)
			}
		}
		for _, r := range a.Roles {
			if err := st.addRole(a.ID, r); err != nil {
				return nil, fmt.Errorf("invalid account %s: %w", a.ID, err)
			}
		}
	}
	return st, nil
}

// addUser checks and adds one user of account.
func (st *iamState) addUser(account string, u SeedUser) error {
	if u.Name == "" || u.AccessKeyID == "" || u.SecretAccessKey == "" {
		return fmt.Errorf("user %q: name, accessKeyId and secretAccessKey must be set", u.Name)
	}
	if _, dup := st.users[u.AccessKeyID]; dup {
		return fmt.Errorf("user %q: access key id %q is configured twice", u.Name, u.AccessKeyID)
	}
	p := Principal{AccessKeyID: u.AccessKeyID, SecretAccessKey: u.SecretAccessKey, Actions: u.Actions, Domains: u.Domains}
	if err := checkPermissions(p); err != nil {
		return fmt.Errorf("user %q: %w", u.Name, err)
	}
	st.users[u.AccessKeyID] = identity{
		principal: p, arn: fmt.Sprintf("arn:aws:iam::%s:user/%s", account, u.Name),
		userID: "AIDA" + strings.ToUpper(u.AccessKeyID), account: account,
	}
	return nil
}

// addRole checks and adds one role of account.
func (st *iamState) addRole(account string, r SeedRole) error {
	if r.Name == "" {
		return fmt.Errorf("role: name must be set")
	}
	arn := fmt.Sprintf("arn:aws:iam::%s:role/%s", account, r.Name)
	if _, dup := st.roles[arn]; dup {
		return fmt.Errorf("role %q is configured twice", r.Name)
	}
	if len(r.Trust) == 0 {
		return fmt.Errorf("role %q: trust must list at least one rule", r.Name)
	}
	for _, t := range r.Trust {
		if len(t.Principals) == 0 {
			return fmt.Errorf("role %q: every trust rule must list principals", r.Name)
		}
	}
	if err := checkPermissions(Principal{AccessKeyID: arn, SecretAccessKey: "-", Actions: r.Actions, Domains: r.Domains}); err != nil {
		return fmt.Errorf("role %q: %w", r.Name, err)
	}
	ro := &role{arn: arn, name: r.Name, account: account, trust: r.Trust, actions: r.Actions, domains: r.Domains,
		uniqueID: "AROA" + strings.ToUpper(randomString(12))}
	if r.SessionDuration != "" {
		d, err := time.ParseDuration(r.SessionDuration)
		if err != nil || d <= 0 {
			return fmt.Errorf("role %q: sessionDuration %q must be a positive duration", r.Name, r.SessionDuration)
		}
		ro.maxLife = d
	}
	st.roles[arn] = ro
	return nil
}

// checkPermissions validates the Connect Cases permissions of p, which may
// be empty.
func checkPermissions(p Principal) error {
	if len(p.Actions) == 0 && len(p.Domains) == 0 {
		return nil
	}
	return p.validate()
}

// lookupIdentity finds who signed with accessKeyID: a configured principal,
// a seeded user, or an STS session, whose token must come with the request
// and must not have expired.
func (s *Server) lookupIdentity(r *http.Request, accessKeyID string) (identity, *apiError) {
	if p, ok := s.principals[accessKeyID]; ok {
		return identity{principal: p, arn: fmt.Sprintf("arn:aws:iam::%s:user/%s", s.account, accessKeyID),
			userID: "AIDA" + strings.ToUpper(accessKeyID), account: s.account}, nil
	}
	st := s.iam
	st.mu.Lock()
	defer st.mu.Unlock()
	if id, ok := st.users[accessKeyID]; ok {
		return id, nil
	}
	id, ok := st.sessions[accessKeyID]
	if !ok || r.Header.Get("X-Amz-Security-Token") != id.token {
		return identity{}, authError(CodeUnrecognizedClient, msgUnrecognized)
	}
	if !s.now().Before(id.expires) {
		return identity{}, authError(CodeExpiredToken, "The security token included in the request is expired")
	}
	return id, nil
}

// principalFor is lookupIdentity for the Connect Cases pipeline.
func (s *Server) principalFor(r *http.Request, accessKeyID string) (Principal, *apiError) {
	id, aerr := s.lookupIdentity(r, accessKeyID)
	return id.principal, aerr
}

// quotaKey names the token buckets a principal's calls draw from: its
// account's for seeded users and STS sessions, as AWS meters quotas per
// account; its own for the principals that belong to no declared account.
func (s *Server) quotaKey(p Principal) string {
	st := s.iam
	st.mu.Lock()
	defer st.mu.Unlock()
	if id, ok := st.users[p.AccessKeyID]; ok {
		return "account/" + id.account
	}
	if id, ok := st.sessions[p.AccessKeyID]; ok {
		return "account/" + id.account
	}
	return p.AccessKeyID
}

// trusts reports whether the role's trust policy admits caller with the
// given external id.
func (ro *role) trusts(caller identity, externalID string) bool {
	for _, t := range ro.trust {
		if t.ExternalID != "" && t.ExternalID != externalID {
			continue
		}
		for _, p := range t.Principals {
			if p == caller.account || p == "arn:aws:iam::"+caller.account+":root" || wildcardMatch(p, caller.arn) {
				return true
			}
		}
	}
	return false
}

// issue creates a session of ro for the given name and lifetime.
func (st *iamState) issue(ro *role, sessionName string, life time.Duration, now time.Time) identity {
	if ro.maxLife > 0 && life > ro.maxLife {
		life = ro.maxLife
	}
	// Expirations travel with a precision of one second: the session ends
	// when its answer says it does.
	expires := now.Add(life).Truncate(time.Second)
	id := identity{
		principal: Principal{
			AccessKeyID: "ASIA" + strings.ToUpper(randomString(16)), SecretAccessKey: randomString(40),
			Actions: append([]string(nil), ro.actions...), Domains: append([]string(nil), ro.domains...),
		},
		arn:     fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", ro.account, ro.name, sessionName),
		userID:  ro.uniqueID + ":" + sessionName,
		account: ro.account, token: randomString(96), expires: expires,
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for k, old := range st.sessions {
		// Sessions long expired are forgotten; recently expired ones still
		// answer ExpiredTokenException.
		if now.Sub(old.expires) > time.Hour {
			delete(st.sessions, k)
		}
	}
	st.sessions[id.principal.AccessKeyID] = id
	return id
}

// roleByARN returns the role with the given ARN.
func (st *iamState) roleByARN(arn string) (*role, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	ro, ok := st.roles[arn]
	return ro, ok
}

// randomString returns n random characters of the URL-safe base64 alphabet
// without '-' and '_'.
func randomString(n int) string {
	var b strings.Builder
	for b.Len() < n {
		buf := make([]byte, n)
		_, _ = rand.Read(buf)
		for _, c := range base64.RawURLEncoding.EncodeToString(buf) {
			if c != '-' && c != '_' && b.Len() < n {
				b.WriteRune(c)
			}
		}
	}
	return b.String()
}
