// Command demo runs connectcases-operator end to end on this machine: a local
// control plane, the Connect Cases emulator with the demo seed and the
// manager, with config/samples applied. It prints the outcome, then keeps
// everything running until Ctrl-C (or exits at once with DEMO_EXIT=1), and
// cleans up its processes either way. make demo runs it.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/connectcases-operator/connectcases-operator/internal/localenv"
	"github.com/connectcases-operator/connectcases-operator/internal/testenv"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	root, err := testenv.RepoRoot()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "connectcases-demo-")
	if err != nil {
		return err
	}
	keep := os.Getenv("DEMO_EXIT") != "1"
	defer func() {
		if !keep {
			_ = os.RemoveAll(dir)
		}
	}()

	d, err := localenv.StartDemo(ctx, localenv.DemoOptions{Root: root, Dir: dir, Progress: os.Stdout})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Println("==> Stopping the manager, the emulator and the control plane")
		d.Stop()
	}()

	fmt.Println("==> Applying config/samples/")
	out, err := d.ApplySamples(ctx, root)
	fmt.Print(out)
	if err != nil {
		return err
	}

	fmt.Println("==> Waiting for every sample to reach its outcome (the burst is throttled first, then applied)")
	waitCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	err = d.WaitForSamples(waitCtx)
	cancel()
	d.Report(ctx, os.Stdout)
	if err != nil {
		return err
	}

	if !keep {
		fmt.Println("\nDemo complete (DEMO_EXIT=1): cleaning up")
		return nil
	}
	kubectl := d.ControlPlane.Kubectl
	fmt.Printf(`
The operator is running. In another terminal:

  export KUBECONFIG=%s
  %s get cfu -o wide
  %s describe cfu invalid-priority
  %s edit cfu invalid-priority     # set the priority to high, low or medium: it is applied
  curl -s %s/_emulator/state        # the cases as the emulator stores them

Logs: %s and %s
Press Ctrl-C to stop everything and clean up.
`, d.ControlPlane.Kubeconfig, kubectl, kubectl, kubectl, d.Emulator.URL,
		filepath.Join(dir, "manager.log"), filepath.Join(dir, "emulator.log"))

	select {
	case <-ctx.Done():
	case <-d.Manager.Done():
		return fmt.Errorf("the manager exited: %s", d.Manager.Tail(20))
	}
	keep = false
	return nil
}
