package localenv

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Testbed is what the process-level tests start from: the manager and
// emulator binaries, a running control plane, a client and a namespace.
type Testbed struct {
	// ManagerBin and EmulatorBin are the built binaries.
	ManagerBin, EmulatorBin string
	// ControlPlane is the running kube-apiserver and etcd.
	ControlPlane *ControlPlane
	// Client reads and writes CaseFieldUpdates and Leases.
	Client client.WithWatch
}

// StartTestbed builds the binaries of the repository at root into dir,
// starts the control plane and creates namespace. The caller stops the
// testbed, also when an error is returned.
func StartTestbed(ctx context.Context, root, dir, namespace string) (*Testbed, error) {
	tb := &Testbed{}
	var err error
	if tb.ManagerBin, tb.EmulatorBin, err = Build(ctx, root, dir); err != nil {
		return tb, err
	}
	if tb.ControlPlane, err = StartControlPlane(dir); err != nil {
		return tb, err
	}
	if tb.Client, err = NewClient(tb.ControlPlane.Config); err != nil {
		return tb, err
	}
	return tb, EnsureNamespace(ctx, tb.Client, namespace)
}

// Stop stops the control plane, if it was started.
func (tb *Testbed) Stop() {
	if tb.ControlPlane != nil {
		_ = tb.ControlPlane.Stop()
	}
}
