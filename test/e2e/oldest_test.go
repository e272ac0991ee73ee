package e2e

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/util/version"
	"k8s.io/client-go/discovery"

	"github.com/connectcases-operator/connectcases-operator/internal/localenv"
	"github.com/connectcases-operator/connectcases-operator/internal/testenv"
)

// TestSamplesOnOldestKubernetes is a smoke test of the oldest supported
// Kubernetes version: the built manager runs against its API server and the
// emulator, and every sample of config/samples reaches its outcome (Applied
// for most, which updates the case; a stalled reason for the others), as on
// the newest version. It shows that the manager's clients, watches, leader
// election, Events and status writes need nothing newer.
func TestSamplesOnOldestKubernetes(t *testing.T) {
	g := NewWithT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	assets, err := testenv.OldestAssets()
	g.Expect(err).NotTo(HaveOccurred())
	// The demo starts its control plane from KUBEBUILDER_ASSETS.
	t.Setenv("KUBEBUILDER_ASSETS", assets)
	root, d := startSamplesDemo(ctx, t)

	dc, err := discovery.NewDiscoveryClientForConfig(d.ControlPlane.Config)
	g.Expect(err).NotTo(HaveOccurred())
	info, err := dc.ServerVersion()
	g.Expect(err).NotTo(HaveOccurred())
	got, err := version.ParseGeneric(info.GitVersion)
	g.Expect(err).NotTo(HaveOccurred())
	want := version.MustParseGeneric(testenv.OldestKubeVersion)
	g.Expect([]uint{got.Major(), got.Minor()}).To(Equal([]uint{want.Major(), want.Minor()}), "API server %s", info.GitVersion)

	out, err := d.ApplySamples(ctx, root)
	g.Expect(err).NotTo(HaveOccurred(), out)
	waitCtx, cancelWait := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelWait()
	g.Expect(d.WaitForSamples(waitCtx)).To(Succeed())

	cases, err := localenv.EmulatorCases(ctx, d.Emulator.URL)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cases["demo-domain"]["case-0001"]).To(And(
		HaveKeyWithValue("priority", HaveField("StringValue", HaveValue(Equal("high")))),
		HaveKeyWithValue("score", HaveField("DoubleValue", HaveValue(Equal(4.5)))),
		HaveKeyWithValue("escalated", HaveField("BooleanValue", HaveValue(BeTrue())))))
	g.Expect(cases["demo-domain"]["case-0003"]).To(HaveKeyWithValue("summary",
		HaveField("StringValue", HaveValue(Equal("Customer reference CR-2003-7781")))), "a value from a Secret")

	g.Expect(d.Manager.Stop(30 * time.Second)).To(Succeed())
}
