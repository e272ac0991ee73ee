// Command manager runs the connectcases-operator: the CaseFieldUpdate
// controller, with health probes, metrics and optional leader election.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/controllers"
	"github.com/connectcases-operator/connectcases-operator/internal/cases"
	"github.com/connectcases-operator/connectcases-operator/internal/metrics"
)

// options are the manager's command-line settings.
type options struct {
	metricsAddr             string
	probeAddr               string
	leaderElect             bool
	leaderElectionID        string
	leaderElectionNamespace string
	maxConcurrentReconciles int
	awsRegion               string
	awsCallTimeout          time.Duration
	awsMaxAttempts          int
	stalledRetryInterval    time.Duration
	maxBackoff              time.Duration
	awsClientLogging        bool
	zap                     zap.Options
}

func main() {
	if err := run(ctrl.SetupSignalHandler(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		os.Exit(1)
	}
}

// parseFlags reads the command line into options.
func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	fs.StringVar(&o.metricsAddr, "metrics-bind-address", ":8080", "Address of the metrics endpoint; 0 turns it off.")
	fs.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "Address of the /healthz and /readyz probes; 0 turns them off.")
	fs.BoolVar(&o.leaderElect, "leader-elect", false, "Elect a leader, so that only one of several replicas reconciles.")
	fs.StringVar(&o.leaderElectionID, "leader-election-id", "connectcases-operator.cases.connectcases.dev", "Name of the leader election Lease.")
	fs.StringVar(&o.leaderElectionNamespace, "leader-election-namespace", "", "Namespace of the leader election Lease; the pod's namespace when empty.")
	fs.IntVar(&o.maxConcurrentReconciles, "max-concurrent-reconciles", 4, "Number of objects reconciled at once.")
	fs.StringVar(&o.awsRegion, "aws-region", "", "AWS region; overrides AWS_REGION and the shared config.")
	fs.DurationVar(&o.awsCallTimeout, "aws-call-timeout", controllers.DefaultCallTimeout, "Timeout of each AWS call, SDK retries included.")
	fs.IntVar(&o.awsMaxAttempts, "aws-max-attempts", cases.DefaultMaxAttempts, "Attempts of the SDK retryer per AWS call.")
	fs.DurationVar(&o.stalledRetryInterval, "stalled-retry-interval", controllers.DefaultStalledRetryInterval, "Wait (jittered) before retrying ResourceNotFound, AccessDenied and InvalidCredentials.")
	fs.DurationVar(&o.maxBackoff, "max-backoff", controllers.DefaultMaxBackoff, "Longest backoff between retries of throttled or failed calls.")
	fs.BoolVar(&o.awsClientLogging, "aws-client-logging", false, "Log every AWS request, response (without bodies), signing and retry at debug level (--zap-log-level=debug).")
	o.zap = zap.Options{Development: false}
	o.zap.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.maxConcurrentReconciles < 1 {
		return o, errors.New("--max-concurrent-reconciles must be at least 1")
	}
	return o, nil
}

// run starts the manager and blocks until ctx is done.
func run(ctx context.Context, args []string) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&o.zap)))
	log := ctrl.Log.WithName("setup")

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(casesv1alpha1.AddToScheme(scheme))

	awsOpts := cases.Options{Region: o.awsRegion, MaxAttempts: o.awsMaxAttempts, Logger: ctrl.Log.WithName("aws")}
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
		LeaderElection:          o.leaderElect,
		LeaderElectionID:        o.leaderElectionID,
		LeaderElectionNamespace: o.leaderElectionNamespace,
		// The manager's work is done once it stops reconciling; letting the
		// lease go at once hands over to a standby without waiting it out.
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return fmt.Errorf("failed to create the manager: %w", err)
	}

	r := &controllers.CaseFieldUpdateReconciler{
		Client:               mgr.GetClient(),
		Cases:                cases.NewClient(awsCfg),
		Recorder:             mgr.GetEventRecorder("connectcases-operator"),
		CallTimeout:          o.awsCallTimeout,
		StalledRetryInterval: o.stalledRetryInterval,
		MaxBackoff:           o.maxBackoff,
	}
	if err := r.SetupWithManager(mgr, o.maxConcurrentReconciles); err != nil {
		return fmt.Errorf("failed to set up the CaseFieldUpdate controller: %w", err)
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

	log.Info("Starting the manager", "region", awsCfg.Region, "maxConcurrentReconciles", o.maxConcurrentReconciles)
	return mgr.Start(ctx)
}
