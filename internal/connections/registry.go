// Package connections holds, for each CasesConnection, what the reconciler
// calls Connect Cases with: an SDK client signed with the connection's
// credentials (assumed with STS and refreshed before they expire), its own
// rate limiter and its own field catalog. The registry builds them when a
// connection appears or its spec changes, and checks the credentials with
// STS GetCallerIdentity.
package connections

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"k8s.io/apimachinery/pkg/api/equality"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/cases"
)

// Defaults of the registry.
const (
	// DefaultExpiryWindow is how long before their expiry assumed
	// credentials are refreshed: a call signed with them then never reaches
	// AWS after they expired.
	DefaultExpiryWindow = 5 * time.Minute
	// DefaultCheckTimeout bounds a GetCallerIdentity check, the AssumeRole
	// it may need included.
	DefaultCheckTimeout = 30 * time.Second
	// sessionNamePrefix starts the default role session name.
	sessionNamePrefix = "connectcases-operator-"
)

// Options configure a Registry.
type Options struct {
	// Base is the operator's own AWS configuration, from the SDK's default
	// chain: its credentials assume the connections' roles, and its
	// retryer and logger serve every connection.
	Base aws.Config

	// Limits are the manager's rate limits, which a connection's
	// rateLimits override per operation.
	Limits map[string]cases.Limit

	// ClientRateLimit gives each connection a client-side limiter; without
	// it, connections without rateLimits rely on the service's throttling.
	ClientRateLimit bool

	// FieldChecks gives each connection a field catalog.
	FieldChecks bool

	// CatalogTTL, MaxLimiterWait and CallTimeout configure the catalogs as
	// the manager configures its own.
	CatalogTTL     time.Duration
	MaxLimiterWait time.Duration
	CallTimeout    time.Duration

	// ExpiryWindow is how long before their expiry assumed credentials are
	// refreshed; DefaultExpiryWindow when zero.
	ExpiryWindow time.Duration

	// CheckTimeout bounds each GetCallerIdentity check;
	// DefaultCheckTimeout when zero.
	CheckTimeout time.Duration
}

// Connection is what the reconciler uses to reach Connect Cases for one
// CasesConnection. Its fields are set once, when it is built: a new spec
// builds a new Connection.
type Connection struct {
	// Name is the CasesConnection's name.
	Name string
	// Generation is the generation of the spec it was built from.
	Generation int64
	// Spec is a copy of that spec.
	Spec casesv1alpha1.CasesConnectionSpec
	// Cases is the Connect Cases client.
	Cases *connectcases.Client
	// Limiter paces the connection's calls; nil means no client-side limit.
	Limiter *cases.Limiter
	// Catalog is the connection's field catalog; nil when field checks are
	// off.
	Catalog *cases.Catalog
	// credentials are the connection's credentials, cached.
	credentials aws.CredentialsProvider
	// sts is the STS client of the checks, signed with credentials.
	sts *sts.Client
}

// Identity is what a check found: who the credentials are and until when.
type Identity struct {
	// ARN is the caller's ARN.
	ARN string
	// Account is the caller's account id.
	Account string
	// Expires is when the credentials expire; zero when they do not.
	Expires time.Time
}

// Registry holds the Connection of each CasesConnection. It is safe for
// concurrent use.
type Registry struct {
	opts  Options
	mu    sync.RWMutex
	conns map[string]*Connection
	// accounts are the accounts of the connections, from their last
	// successful check.
	accounts map[string]string
}

// NewRegistry returns an empty registry.
func NewRegistry(opts Options) *Registry {
	if opts.ExpiryWindow <= 0 {
		opts.ExpiryWindow = DefaultExpiryWindow
	}
	if opts.CheckTimeout <= 0 {
		opts.CheckTimeout = DefaultCheckTimeout
	}
	return &Registry{opts: opts, conns: map[string]*Connection{}, accounts: map[string]string{}}
}

// Get returns the Connection built for the named CasesConnection.
func (r *Registry) Get(name string) (*Connection, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c, ok := r.conns[name]
	return c, ok
}

// Account returns the account of the named connection, from its last
// successful check, and whether it is known.
func (r *Registry) Account(name string) (string, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	a, ok := r.accounts[name]
	return a, ok
}

// Remove forgets a deleted CasesConnection.
func (r *Registry) Remove(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.conns, name)
	delete(r.accounts, name)
}

// Ensure returns the Connection of obj, building it when there is none or
// when obj's spec changed since it was built. A connection built again
// starts with new credentials, a new limiter and an empty catalog.
func (r *Registry) Ensure(obj *casesv1alpha1.CasesConnection) *Connection {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.conns[obj.Name]; ok && equality.Semantic.DeepEqual(c.Spec, obj.Spec) {
		c.Generation = obj.Generation
		return c
	}
	c := r.build(obj)
	r.conns[obj.Name] = c
	delete(r.accounts, obj.Name)
	return c
}

// build makes the clients, limiter and catalog of obj.
func (r *Registry) build(obj *casesv1alpha1.CasesConnection) *Connection {
	spec := *obj.Spec.DeepCopy()
	cfg := r.opts.Base.Copy()
	cfg.Region = spec.Region
	stsOpts := func(o *sts.Options) {
		if spec.Endpoints != nil && spec.Endpoints.STS != "" {
			o.BaseEndpoint = aws.String(spec.Endpoints.STS)
		}
	}
	if ar := spec.AssumeRole; ar != nil {
		base := sts.NewFromConfig(cfg, stsOpts)
		provider := stscreds.NewAssumeRoleProvider(base, ar.RoleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = sessionName(obj.Name, ar.SessionName)
			if ar.ExternalID != "" {
				o.ExternalID = aws.String(ar.ExternalID)
			}
			if ar.DurationSeconds != nil {
				o.Duration = time.Duration(*ar.DurationSeconds) * time.Second
			}
		})
		cfg.Credentials = cases.GuardCredentials(aws.NewCredentialsCache(provider, func(o *aws.CredentialsCacheOptions) {
			o.ExpiryWindow = r.opts.ExpiryWindow
		}))
	}
	c := &Connection{Name: obj.Name, Generation: obj.Generation, Spec: spec, credentials: cfg.Credentials}
	c.sts = sts.NewFromConfig(cfg, stsOpts)
	c.Cases = cases.NewClient(cfg, func(o *connectcases.Options) {
		if spec.Endpoints != nil && spec.Endpoints.ConnectCases != "" {
			o.BaseEndpoint = aws.String(spec.Endpoints.ConnectCases)
		}
	}, withConnectionName(obj.Name))
	if limits := r.limits(spec); limits != nil {
		c.Limiter = cases.NewLimiter(limits)
	}
	if r.opts.FieldChecks {
		c.Catalog = cases.NewCatalog(c.Cases, c.Limiter, r.opts.CatalogTTL, r.opts.MaxLimiterWait, cases.WithCallTimeout(r.opts.CallTimeout))
	}
	return c
}

// limits returns the limits of a connection's limiter: the manager's,
// overridden by the connection's rateLimits; nil for no limiter.
func (r *Registry) limits(spec casesv1alpha1.CasesConnectionSpec) map[string]cases.Limit {
	if !r.opts.ClientRateLimit && len(spec.RateLimits) == 0 {
		return nil
	}
	out := map[string]cases.Limit{}
	for op, l := range r.opts.Limits {
		out[op] = l
	}
	for op, l := range spec.RateLimits {
		out[op] = cases.Limit{RPS: l.RPS, Burst: int(max(l.Burst, 1))}
	}
	return out
}

// sessionName is the role session name of a connection.
func sessionName(connection, configured string) string {
	if configured != "" {
		return configured
	}
	name := sessionNamePrefix + connection
	if len(name) > 64 {
		name = name[:64]
	}
	return name
}

// Check resolves the connection's credentials and asks STS who they are,
// within the registry's check timeout. On success the connection's account
// is recorded for Account.
func (r *Registry) Check(ctx context.Context, c *Connection) (Identity, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opts.CheckTimeout)
	defer cancel()
	creds, err := c.credentials.Retrieve(ctx)
	if err != nil {
		return Identity{}, err
	}
	out, err := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Identity{}, fmt.Errorf("failed to call STS GetCallerIdentity: %w", err)
	}
	id := Identity{ARN: aws.ToString(out.Arn), Account: aws.ToString(out.Account)}
	if creds.CanExpire {
		// The cache reports the time it refreshes at, the expiry window
		// before the real expiry.
		id.Expires = creds.Expires
		if c.Spec.AssumeRole != nil {
			id.Expires = id.Expires.Add(r.opts.ExpiryWindow)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if current, ok := r.conns[c.Name]; ok && current == c {
		r.accounts[c.Name] = id.Account
	}
	return id, nil
}

// Limiters returns the limiters of the connections.
func (r *Registry) Limiters() []*cases.Limiter {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*cases.Limiter, 0, len(r.conns))
	for _, c := range r.conns {
		if c.Limiter != nil {
			out = append(out, c.Limiter)
		}
	}
	return out
}
