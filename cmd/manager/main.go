// Command manager runs the connectcases-operator: the CaseFieldUpdate
// controller, with health probes, metrics and optional leader election.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/controllers"
	"github.com/connectcases-operator/connectcases-operator/internal/cases"
	"github.com/connectcases-operator/connectcases-operator/internal/connections"
	"github.com/connectcases-operator/connectcases-operator/internal/metrics"
)

func main() {
	// Go's default GOGC, with a soft memory limit under the container's
	// (memory.go): the collector works harder only near the limit.
	memory, err := applyMemoryLimit()
	if err == nil {
		err = run(ctrl.SetupSignalHandler(), os.Args[1:], memory)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		os.Exit(1)
	}
}

// run starts the manager and blocks until ctx is done.
func run(ctx context.Context, args []string, memory memorySettings) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&o.zap)))
	log := ctrl.Log.WithName("setup")

	scheme, err := newScheme()
	if err != nil {
		return fmt.Errorf("failed to build the scheme: %w", err)
	}

	awsOpts := cases.Options{Region: o.awsRegion, MaxAttempts: o.awsMaxAttempts, Logger: ctrl.Log.WithName("aws"),
		NoThrottleRetries: o.awsClientRateLimit}
	if o.awsRetryMode == retryModeSDKDefault {
		awsOpts.Retryer = cases.SDKDefaultRetryer
	}
	if o.awsClientLogging {
		awsOpts.ClientLogMode = aws.LogRequest | aws.LogResponse | aws.LogSigning | aws.LogRetries
	}
	awsCfg, err := cases.LoadConfig(ctx, awsOpts)
	if err != nil {
		return err
	}
	credCtx, cancel := context.WithTimeout(ctx, o.awsCallTimeout)
	if err := cases.CheckCredentials(credCtx, awsCfg); err != nil {
		// Not fatal: web identity tokens and pod identity agents may come up
		// after the manager. Objects report InvalidCredentials meanwhile.
		log.Error(err, "AWS credentials are not available yet: objects will report InvalidCredentials until they are")
	}
	cancel()

	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsserver.Options{BindAddress: o.metricsAddr},
		HealthProbeBindAddress:  o.probeAddr,
		PprofBindAddress:        o.pprofAddr,
		LeaderElection:          o.leaderElect,
		LeaderElectionID:        o.leaderElectionID,
		LeaderElectionNamespace: o.leaderElectionNamespace,
		LeaseDuration:           &o.leaseDuration,
		RenewDeadline:           &o.renewDeadline,
		RetryPeriod:             &o.retryPeriod,
		Cache:                   cacheOptions(o),
		// The manager's work is done once it stops reconciling; letting the
		// lease go at once hands over to a standby without waiting it out.
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return fmt.Errorf("failed to create the manager: %w", err)
	}

	recorder, err := managerEventRecorder(mgr, scheme)
	if err != nil {
		return err
	}
	casesClient := cases.NewClient(awsCfg)
	r := &controllers.CaseFieldUpdateReconciler{
		Client:               mgr.GetClient(),
		Cases:                casesClient,
		Recorder:             recorder,
		CallTimeout:          o.awsCallTimeout,
		StalledRetryInterval: o.stalledRetryInterval,
		MaxBackoff:           o.maxBackoff,
		RequeueOnFailure:     controllers.RequeuePolicy(o.requeueOnFailure),
	}
	if o.awsClientRateLimit {
		r.Limiter = cases.NewLimiter(o.awsLimits)
	}
	if !o.skipFieldChecks {
		r.Catalog = cases.NewCatalog(casesClient, r.Limiter, o.fieldCacheTTL, controllers.DefaultMaxLimiterWait,
			cases.WithCallTimeout(o.awsCallTimeout))
	}
	r.EnableValueFrom = o.enableValueFrom
	r.WatchNamespaces = o.watchNamespaces
	r.Connections = connections.NewRegistry(connections.Options{
		Base: awsCfg, Limits: o.awsLimits, ClientRateLimit: o.awsClientRateLimit, FieldChecks: !o.skipFieldChecks,
		CatalogTTL: o.fieldCacheTTL, MaxLimiterWait: controllers.DefaultMaxLimiterWait, CallTimeout: o.awsCallTimeout,
		CheckTimeout: o.awsCallTimeout,
	})
	r.RequireConnection = o.requireConnection
	if err := r.SetupWithManager(mgr, o.maxConcurrentReconciles); err != nil {
		return fmt.Errorf("failed to set up the CaseFieldUpdate controller: %w", err)
	}
	cr := &controllers.CasesConnectionReconciler{Client: mgr.GetClient(), Registry: r.Connections,
		StalledRetryInterval: o.stalledRetryInterval, MaxBackoff: o.maxBackoff}
	if err := cr.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("failed to set up the CasesConnection controller: %w", err)
	}
	if err := ctrlmetrics.Registry.Register(metrics.NewObjectCollector(mgr.GetCache())); err != nil {
		return fmt.Errorf("failed to register the object metrics: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("failed to add the health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return fmt.Errorf("failed to add the readiness check: %w", err)
	}

	log.Info("Starting the manager", "version", version, "region", awsCfg.Region, "maxConcurrentReconciles", o.maxConcurrentReconciles,
		"clientRateLimit", o.awsClientRateLimit, "limits", cases.FormatLimits(o.awsLimits), "retryMode", o.awsRetryMode, "requeueOnFailure", o.requeueOnFailure,
		"watchNamespaces", o.watchNamespaces, "labelSelector", fmt.Sprint(o.labelSelector),
		"fieldChecks", !o.skipFieldChecks, "valueFrom", o.enableValueFrom, "requireConnection", o.requireConnection,
		"memoryLimit", memory.Limit, "memoryLimitSource", memory.Source)
	return mgr.Start(ctx)
}

// cacheOptions restricts the manager's cache to its shard: the namespaces of
// --watch-namespaces and the CaseFieldUpdates of --label-selector.
func cacheOptions(o options) cache.Options {
	// Managed fields are never read, and strings that many objects hold
	// alike are kept once: see controllers.CacheTransform.
	opts := cache.Options{DefaultTransform: controllers.CacheTransform}
	if len(o.watchNamespaces) > 0 {
		opts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range o.watchNamespaces {
			opts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	if o.labelSelector != nil {
		opts.ByObject = map[client.Object]cache.ByObject{
			&casesv1alpha1.CaseFieldUpdate{}: {Label: o.labelSelector},
		}
	}
	return opts
}
