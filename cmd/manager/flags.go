package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/connectcases-operator/connectcases-operator/controllers"
	"github.com/connectcases-operator/connectcases-operator/internal/cases"
)

// Values of --aws-retry-mode.
const (
	retryModeFast       = "fast"
	retryModeSDKDefault = "sdk-default"
)

// options are the manager's command-line settings.
type options struct {
	metricsAddr             string
	probeAddr               string
	pprofAddr               string
	leaderElect             bool
	leaderElectionID        string
	leaderElectionNamespace string
	leaseDuration           time.Duration
	renewDeadline           time.Duration
	retryPeriod             time.Duration
	maxConcurrentReconciles int
	watchNamespaces         []string
	labelSelector           labels.Selector
	awsRegion               string
	awsCallTimeout          time.Duration
	awsMaxAttempts          int
	awsRetryMode            string
	awsClientRateLimit      bool
	requeueOnFailure        string
	awsLimits               map[string]cases.Limit
	stalledRetryInterval    time.Duration
	maxBackoff              time.Duration
	awsClientLogging        bool
	fieldCacheTTL           time.Duration
	skipFieldChecks         bool
	enableValueFrom         bool
	requireConnection       bool
	zap                     zap.Options
}

// parseFlags reads the command line into options.
func parseFlags(args []string) (options, error) {
	var o options
	var namespaces, selector, rps, burst string
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	fs.StringVar(&o.metricsAddr, "metrics-bind-address", ":8080", "Address of the metrics endpoint; 0 turns it off.")
	fs.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "Address of the /healthz and /readyz probes; 0 turns them off.")
	fs.StringVar(&o.pprofAddr, "pprof-bind-address", "0", "Address of Go's /debug/pprof profiles, for diagnosing CPU and memory use; 0 (the default) turns them off.")
	fs.BoolVar(&o.leaderElect, "leader-elect", false, "Elect a leader, so that only one of several replicas reconciles.")
	fs.StringVar(&o.leaderElectionID, "leader-election-id", "connectcases-operator.cases.connectcases.dev", "Name of the leader election Lease; give each shard its own.")
	fs.StringVar(&o.leaderElectionNamespace, "leader-election-namespace", "", "Namespace of the leader election Lease; the pod's namespace when empty.")
	fs.DurationVar(&o.leaseDuration, "leader-election-lease-duration", 15*time.Second, "How long a standby waits before taking over a lease that was not renewed.")
	fs.DurationVar(&o.renewDeadline, "leader-election-renew-deadline", 10*time.Second, "How long the leader tries to renew its lease before giving up.")
	fs.DurationVar(&o.retryPeriod, "leader-election-retry-period", 2*time.Second, "Wait between two attempts to acquire or renew the lease.")
	fs.IntVar(&o.maxConcurrentReconciles, "max-concurrent-reconciles", 4, "Number of objects reconciled at once.")
	fs.StringVar(&namespaces, "watch-namespaces", "", "Comma-separated namespaces whose CaseFieldUpdates this manager reconciles; all when empty.")
	fs.StringVar(&selector, "label-selector", "", "Label selector of the CaseFieldUpdates this manager reconciles (sharding), e.g. shard=a.")
	fs.StringVar(&o.awsRegion, "aws-region", "", "AWS region; overrides AWS_REGION and the shared config.")
	fs.DurationVar(&o.awsCallTimeout, "aws-call-timeout", controllers.DefaultCallTimeout, "Timeout of each AWS call, SDK retries included.")
	fs.IntVar(&o.awsMaxAttempts, "aws-max-attempts", cases.DefaultMaxAttempts, "Attempts of the SDK retryer per AWS call.")
	fs.StringVar(&o.awsRetryMode, "aws-retry-mode", retryModeFast, "SDK retryer: fast (short waits; the controller backs off) or sdk-default (the SDK's stock standard retryer).")
	fs.BoolVar(&o.awsClientRateLimit, "aws-client-rate-limit", true, "Pace AWS calls with the client-side adaptive rate limiter shared by all workers.")
	fs.StringVar(&o.requeueOnFailure, "requeue-on-failure", string(controllers.RequeueBackoff), "Requeue of a transient failure: backoff (jittered, exponential, honours Retry-After) or controller-runtime (return the error to controller-runtime's default rate limiter, as a typical controller does; for comparison).")
	fs.StringVar(&rps, "aws-rps", "", "Client-side calls per second per operation, e.g. UpdateCase=2,GetCase=4 (defaults UpdateCase=2, GetCase=4, others 10).")
	fs.StringVar(&burst, "aws-burst", "", "Client-side burst per operation, e.g. UpdateCase=2,GetCase=10 (defaults UpdateCase=2, GetCase=10, others 10).")
	fs.DurationVar(&o.stalledRetryInterval, "stalled-retry-interval", controllers.DefaultStalledRetryInterval, "Wait (jittered) before retrying ResourceNotFound, AccessDenied and InvalidCredentials.")
	fs.DurationVar(&o.maxBackoff, "max-backoff", controllers.DefaultMaxBackoff, "Longest backoff between retries of throttled or failed calls.")
	fs.BoolVar(&o.awsClientLogging, "aws-client-logging", false, "Log every AWS request, response (without bodies), signing and retry at debug level (--zap-log-level=debug).")
	fs.DurationVar(&o.fieldCacheTTL, "field-cache-ttl", cases.DefaultCatalogTTL, "How long the field catalog (names, types, options per domain) is trusted before it is read again.")
	fs.BoolVar(&o.skipFieldChecks, "skip-field-checks", false, "Do not read the field catalog (ListFields, BatchGetField, ListFieldOptions): no names, no valueFrom, no type pre-checks. For credentials without read permissions.")
	fs.BoolVar(&o.requireConnection, "require-connection", false, "Refuse CaseFieldUpdates that name no CasesConnection when none is marked default (ConnectionNotFound), instead of using the operator's own identity.")
	fs.BoolVar(&o.enableValueFrom, "enable-value-from", false, "Let valueFrom read Secrets and ConfigMaps (needs the value-from RBAC: get, list and watch on them).")
	o.zap = zap.Options{Development: false}
	o.zap.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if err := checkNumbers(o); err != nil {
		return o, err
	}
	if o.awsRetryMode != retryModeFast && o.awsRetryMode != retryModeSDKDefault {
		return o, fmt.Errorf("--aws-retry-mode must be %s or %s", retryModeFast, retryModeSDKDefault)
	}
	if p := controllers.RequeuePolicy(o.requeueOnFailure); p != controllers.RequeueBackoff && p != controllers.RequeueRateLimiter {
		return o, fmt.Errorf("--requeue-on-failure must be %s or %s", controllers.RequeueBackoff, controllers.RequeueRateLimiter)
	}
	for _, ns := range strings.Split(namespaces, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			o.watchNamespaces = append(o.watchNamespaces, ns)
		}
	}
	if selector != "" {
		sel, err := labels.Parse(selector)
		if err != nil {
			return o, fmt.Errorf("invalid --label-selector: %w", err)
		}
		o.labelSelector = sel
	}
	limits, err := cases.ParseLimits(rps, burst)
	if err != nil {
		return o, err
	}
	o.awsLimits = limits
	return o, nil
}

// leaderElectionJitter is client-go's jitter factor of the lease retry
// period: the renew deadline must exceed the retry period times it.
const leaderElectionJitter = 1.2

// checkNumbers rejects numeric flags out of their range at start-up, each
// error naming its flag, rather than letting a zero timeout or a negative
// interval show up later as a manager that never calls AWS or spins. The
// rate and burst lists are checked by cases.ParseLimits.
func checkNumbers(o options) error {
	var errs []error
	atLeast := func(name string, v, least int) {
		if v < least {
			errs = append(errs, fmt.Errorf("invalid --%s %d: must be %d or more", name, v, least))
		}
	}
	positive := func(name string, d time.Duration) {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("invalid --%s %s: must be above 0", name, d))
		}
	}
	atLeast("max-concurrent-reconciles", o.maxConcurrentReconciles, 1)
	atLeast("aws-max-attempts", o.awsMaxAttempts, 1)
	positive("aws-call-timeout", o.awsCallTimeout)
	positive("stalled-retry-interval", o.stalledRetryInterval)
	positive("max-backoff", o.maxBackoff)
	positive("field-cache-ttl", o.fieldCacheTTL)
	positive("leader-election-lease-duration", o.leaseDuration)
	positive("leader-election-renew-deadline", o.renewDeadline)
	positive("leader-election-retry-period", o.retryPeriod)
	if o.leaderElect && len(errs) == 0 {
		if o.renewDeadline >= o.leaseDuration {
			errs = append(errs, fmt.Errorf("invalid --leader-election-renew-deadline %s: must be below --leader-election-lease-duration %s", o.renewDeadline, o.leaseDuration))
		}
		if float64(o.renewDeadline) <= leaderElectionJitter*float64(o.retryPeriod) {
			errs = append(errs, fmt.Errorf("invalid --leader-election-retry-period %s: must be below --leader-election-renew-deadline %s divided by %g", o.retryPeriod, o.renewDeadline, leaderElectionJitter))
		}
	}
	return errors.Join(errs...)
}
