package localenv

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/testenv"
)

// SampleOutcomes are the Ready reasons that the objects of config/samples
// reach against the emulator's demo seed.
var SampleOutcomes = map[string]string{
	"escalate-case-0001":  casesv1alpha1.AppliedReason,
	"triage-case-0002":    casesv1alpha1.AppliedReason,
	"triage-case-0003":    casesv1alpha1.AppliedReason,
	"triage-case-0004":    casesv1alpha1.AppliedReason,
	"triage-case-0005":    casesv1alpha1.AppliedReason,
	"invalid-priority":    casesv1alpha1.ValidationErrorReason,
	"missing-case":        casesv1alpha1.ResourceNotFoundReason,
	"locked-domain-case":  casesv1alpha1.AccessDeniedReason,
	"link-case-0001":      casesv1alpha1.AppliedReason,
	"reference-case-0003": casesv1alpha1.AppliedReason,
}

// Demo is the operator running end to end: control plane, emulator with the
// demo seed, and the manager binary, with the samples applied.
type Demo struct {
	// Dir holds the binaries, the kubeconfig and the logs.
	Dir          string
	ControlPlane *ControlPlane
	Emulator     *Emulator
	Manager      *Process
	// Client reads the objects.
	Client client.Client
}

// DemoOptions tune the demo.
type DemoOptions struct {
	// Root is the repository root.
	Root string
	// Dir is where the binaries, the kubeconfig and the logs go.
	Dir string
	// EmulatorArgs are extra emulator flags.
	EmulatorArgs []string
	// ManagerArgs are extra manager flags.
	ManagerArgs []string
	// Progress receives one line per step.
	Progress io.Writer
}

// StartDemo builds the binaries, then starts the control plane, the emulator
// (demo seed, UpdateCase quota of one call per second, so that a burst is
// throttled) and the manager. The caller stops the demo.
func StartDemo(ctx context.Context, o DemoOptions) (d *Demo, err error) {
	step := func(format string, args ...any) { fmt.Fprintf(o.Progress, "==> "+format+"\n", args...) }
	d = &Demo{Dir: o.Dir}
	defer func() {
		if err != nil {
			d.Stop()
		}
	}()

	step("Building the local control plane (kube-apiserver, etcd, kubectl); the first run compiles them, later runs use the cache")
	if _, err := assetsDir(); err != nil {
		return d, err
	}
	step("Building the manager and the emulator")
	binDir := filepath.Join(o.Dir, "bin")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return d, err
	}
	managerBin, emulatorBin, err := Build(ctx, o.Root, binDir)
	if err != nil {
		return d, err
	}

	step("Starting the local control plane and installing the CaseFieldUpdate CRD")
	if d.ControlPlane, err = StartControlPlane(o.Dir); err != nil {
		return d, err
	}
	scheme := runtime.NewScheme()
	if err := casesv1alpha1.AddToScheme(scheme); err != nil {
		return d, err
	}
	if d.Client, err = client.New(d.ControlPlane.Config, client.Options{Scheme: scheme}); err != nil {
		return d, err
	}

	step("Starting the Connect Cases emulator with config/emulator/demo-seed.yaml")
	emuArgs := append([]string{"--seed", filepath.Join(o.Root, "config", "emulator", "demo-seed.yaml"),
		"--update-rps", "1", "--update-burst", "1"}, o.EmulatorArgs...)
	if d.Emulator, err = StartEmulator(ctx, emulatorBin, filepath.Join(o.Dir, "emulator.log"), emuArgs...); err != nil {
		return d, err
	}

	step("Starting the manager against %s", d.Emulator.URL)
	mgrArgs := append([]string{"--metrics-bind-address=0", "--health-probe-bind-address=0", "--enable-value-from"}, o.ManagerArgs...)
	if d.Manager, err = Start("manager", filepath.Join(o.Dir, "manager.log"),
		ManagerEnv(d.ControlPlane.Kubeconfig, d.Emulator.URL), managerBin, mgrArgs...); err != nil {
		return d, err
	}
	return d, nil
}

// assetsDir builds or finds the control plane binaries, and records their
// directory so that later starts do not look again.
func assetsDir() (string, error) {
	dir, err := testenv.Assets()
	if err == nil {
		err = os.Setenv("KUBEBUILDER_ASSETS", dir)
	}
	return dir, err
}

// ApplySamples applies config/samples with kubectl.
func (d *Demo) ApplySamples(ctx context.Context, root string) (string, error) {
	return d.ControlPlane.RunKubectl(ctx, "apply", "-n", "default", "-f", filepath.Join(root, "config", "samples"))
}

// WaitForSamples waits until every sample object reached its expected
// reason at its current generation, or ctx ends.
func (d *Demo) WaitForSamples(ctx context.Context) error {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		pending, err := d.pendingSamples(ctx)
		if err == nil && len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("samples did not reach their outcome (%s): %w", strings.Join(pending, ", "), ctx.Err())
		case <-d.Manager.Done():
			return fmt.Errorf("the manager exited: %s", d.Manager.Tail(20))
		case <-tick.C:
		}
	}
}

// pendingSamples lists the samples not yet at their expected reason.
func (d *Demo) pendingSamples(ctx context.Context) ([]string, error) {
	list := &casesv1alpha1.CaseFieldUpdateList{}
	if err := d.Client.List(ctx, list, client.InNamespace("default")); err != nil {
		return nil, err
	}
	got := map[string]string{}
	for _, o := range list.Items {
		if c := meta.FindStatusCondition(o.Status.Conditions, casesv1alpha1.ReadyCondition); c != nil && o.Status.ObservedGeneration == o.Generation {
			got[o.Name] = c.Reason
		}
	}
	var pending []string
	for name, want := range SampleOutcomes {
		if got[name] != want {
			pending = append(pending, fmt.Sprintf("%s: %q, want %q", name, got[name], want))
		}
	}
	sort.Strings(pending)
	return pending, nil
}

// Report prints the objects, their Events and the emulator's view of the
// cases.
func (d *Demo) Report(ctx context.Context, out io.Writer) {
	if s, err := d.ControlPlane.RunKubectl(ctx, "get", "casefieldupdates", "-n", "default", "-o", "wide"); err == nil {
		fmt.Fprintf(out, "\n$ kubectl get cfu -o wide\n%s", s)
	} else {
		fmt.Fprintln(out, err)
	}
	if s, err := d.ControlPlane.RunKubectl(ctx, "get", "events.events.k8s.io", "-n", "default",
		"--sort-by=.metadata.creationTimestamp", "-o",
		"custom-columns=OBJECT:.regarding.name,TYPE:.type,REASON:.reason,NOTE:.note"); err == nil {
		fmt.Fprintf(out, "\n$ kubectl get events\n%s", s)
	}
	fmt.Fprintf(out, "\nCase values stored in the emulator (%s/_emulator/state):\n", d.Emulator.URL)
	if err := printCases(ctx, out, d.Emulator.URL); err != nil {
		fmt.Fprintln(out, err)
	}
	if err := printCalls(ctx, out, d.Emulator.URL); err != nil {
		fmt.Fprintln(out, err)
	}
}

// Stop stops the manager, the emulator and the control plane, in that
// order, and reports nothing: it is best effort by design.
func (d *Demo) Stop() {
	if d.Manager != nil {
		_ = d.Manager.Stop(30 * time.Second)
	}
	if d.Emulator != nil {
		_ = d.Emulator.Stop(10 * time.Second)
	}
	if d.ControlPlane != nil {
		_ = d.ControlPlane.Stop()
	}
}

// GetJSON decodes the JSON answer of an emulator admin endpoint into v.
func GetJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// printCases prints the cases of the emulator's state, one line per field.
func printCases(ctx context.Context, out io.Writer, url string) error {
	var state struct {
		Domains []struct {
			ID    string `json:"id"`
			Cases []struct {
				ID     string                     `json:"id"`
				Fields map[string]json.RawMessage `json:"fields"`
			} `json:"cases"`
		} `json:"domains"`
	}
	if err := GetJSON(ctx, url+"/_emulator/state", &state); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DOMAIN\tCASE\tFIELD\tVALUE")
	for _, dom := range state.Domains {
		for _, c := range dom.Cases {
			ids := make([]string, 0, len(c.Fields))
			for id := range c.Fields {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			for _, id := range ids {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", dom.ID, c.ID, id, c.Fields[id])
			}
		}
	}
	return tw.Flush()
}

// printCalls prints the emulator's call counts per operation and outcome.
func printCalls(ctx context.Context, out io.Writer, url string) error {
	var calls struct {
		Counts map[string]map[string]int `json:"counts"`
	}
	if err := GetJSON(ctx, url+"/_emulator/calls", &calls); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nCalls answered by the emulator (%s/_emulator/calls):\n", url)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "OPERATION\tOUTCOME\tCALLS")
	var ops []string
	for op := range calls.Counts {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		var outcomes []string
		for oc := range calls.Counts[op] {
			outcomes = append(outcomes, oc)
		}
		sort.Strings(outcomes)
		for _, oc := range outcomes {
			fmt.Fprintf(tw, "%s\t%s\t%d\n", op, oc, calls.Counts[op][oc])
		}
	}
	return tw.Flush()
}
