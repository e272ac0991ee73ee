package packaging

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
	"github.com/connectcases-operator/connectcases-operator/internal/emulator"
)

// updateFixtures rewrites the Argo CD fixtures of the objects that the live
// test produces: go test ./test/packaging -run TestHealthOfLiveObjects -update-fixtures
var updateFixtures = flag.Bool("update-fixtures", false, "rewrite the health.lua fixtures from the live objects")

// healthDir is the Argo CD resource customization of CaseFieldUpdate.
const healthDir = "config/argocd/resource_customizations/cases.connectcases.dev/CaseFieldUpdate"

// healthLuaPath is the health check, relative to the repository root.
const healthLuaPath = healthDir + "/health.lua"

// luaHealth is the result of the health check.
type luaHealth struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// healthTests is Argo CD's health_test.yaml.
type healthTests struct {
	Tests []struct {
		HealthStatus luaHealth `json:"healthStatus"`
		InputPath    string    `json:"inputPath"`
	} `json:"tests"`
}

// TestHealthLuaFixtures runs health.lua, in gopher-lua as Argo CD does,
// over each fixture of health_test.yaml, Argo CD's own test layout.
func TestHealthLuaFixtures(t *testing.T) {
	g := NewWithT(t)
	data, err := os.ReadFile(filepath.Join(repoRoot, healthDir, "health_test.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	var tests healthTests
	g.Expect(yaml.UnmarshalStrict(data, &tests)).To(Succeed())
	seen := map[string]bool{}
	for _, tc := range tests.Tests {
		t.Run(tc.InputPath, func(t *testing.T) {
			g := NewWithT(t)
			raw, err := os.ReadFile(filepath.Join(repoRoot, healthDir, tc.InputPath))
			g.Expect(err).NotTo(HaveOccurred())
			obj := map[string]interface{}{}
			g.Expect(yaml.Unmarshal(raw, &obj)).To(Succeed())
			g.Expect(runHealthLua(t, obj)).To(Equal(tc.HealthStatus))
			seen[tc.HealthStatus.Status] = true
		})
	}
	g.Expect(seen).To(HaveLen(4), "one fixture at least per state: Healthy, Degraded, Progressing, Suspended")
}

// TestHealthOfLiveObjects produces objects in each state with the real
// reconciler, the API server and the emulator, and checks what Argo CD
// (health.lua) and Flux (kstatus) make of them. With -update-fixtures it
// writes them as the fixtures of health_test.yaml.
func TestHealthOfLiveObjects(t *testing.T) {
	g := NewWithT(t)
	w := newWorld(t)
	w.startManager(managerOptions{})
	ctx := context.Background()

	applied := w.newObject("applied", "case-1", true, field("priority", "high"))
	g.Expect(k8sClient.Create(ctx, applied)).To(Succeed())
	appliedLive := w.waitForReason(applied, casesv1alpha1.AppliedReason)

	// Applied, then changed while the manager does not watch it: its status
	// describes an older generation.
	changed := w.newObject("changed", "case-1", true, field("summary", "first"))
	g.Expect(k8sClient.Create(ctx, changed)).To(Succeed())
	unobserved := w.waitForReason(changed, casesv1alpha1.AppliedReason)
	unobserved.Labels[testLabel] = w.id + "-idle"
	g.Expect(k8sClient.Update(ctx, unobserved)).To(Succeed())
	unobserved.Spec.Fields[0] = field("summary", "second")
	g.Expect(k8sClient.Update(ctx, unobserved)).To(Succeed())
	g.Expect(unobserved.Generation).To(Equal(int64(2)))

	stalled := w.newObject("stalled", "case-2", true, field("priority", "urgent"))
	g.Expect(k8sClient.Create(ctx, stalled)).To(Succeed())
	stalledLive := w.waitForReason(stalled, casesv1alpha1.ValidationErrorReason)

	// Every attempt is throttled from now on.
	w.emu.SetFaults([]emulator.Fault{{Operation: "UpdateCase", Kind: "ThrottlingException", Rate: 1}})
	throttled := w.newObject("throttled", "case-3", true, field("priority", "low"))
	g.Expect(k8sClient.Create(ctx, throttled)).To(Succeed())
	throttledLive := w.waitForReason(throttled, casesv1alpha1.ThrottledReason)

	// Paused before it was ever applied.
	paused := w.newObject("paused", "case-4", true, field("summary", "later"))
	paused.Annotations = map[string]string{casesv1alpha1.PausedAnnotation: "true"}
	g.Expect(k8sClient.Create(ctx, paused)).To(Succeed())
	pausedLive := w.waitForReason(paused, casesv1alpha1.PausedReason)

	// Not reconciled: the manager does not watch it.
	pending := w.newObject("pending", "case-4", false, field("summary", "new"))
	g.Expect(k8sClient.Create(ctx, pending)).To(Succeed())
	pendingLive := &casesv1alpha1.CaseFieldUpdate{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(pending), pendingLive)).To(Succeed())

	cases := map[string]struct {
		obj        *casesv1alpha1.CaseFieldUpdate
		fixture    string
		wantLua    string
		wantStatus status.Status
	}{
		"applied":                  {appliedLive, "healthy-applied.yaml", "Healthy", status.CurrentStatus},
		"validation error":         {stalledLive, "degraded-validation-error.yaml", "Degraded", status.FailedStatus},
		"throttled":                {throttledLive, "progressing-throttled.yaml", "Progressing", status.InProgressStatus},
		"before the first status":  {pendingLive, "progressing-new.yaml", "Progressing", status.InProgressStatus},
		"new generation unapplied": {unobserved, "progressing-new-generation.yaml", "Progressing", status.InProgressStatus},
		"paused":                   {pausedLive, "suspended-paused.yaml", "Suspended", status.InProgressStatus},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			u := getUnstructured(t, tc.obj)

			got := runHealthLua(t, u.Object)
			g.Expect(got.Status).To(Equal(tc.wantLua), "health.lua: %+v", got)
			if tc.wantLua == "Degraded" {
				stalledCond := findCondition(tc.obj, casesv1alpha1.StalledCondition)
				g.Expect(got.Message).To(Equal(stalledCond), "Degraded carries the Stalled condition's message")
			}

			res, err := status.Compute(u)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(res.Status).To(Equal(tc.wantStatus), "kstatus: %s", res.Message)

			if *updateFixtures {
				writeFixture(t, tc.fixture, u)
			}
		})
	}
}

// runHealthLua runs health.lua on obj in a Lua VM set up like Argo CD's
// (argoLua), and reads the returned table as {status, message}.
func runHealthLua(t *testing.T, obj map[string]interface{}) luaHealth {
	t.Helper()
	script, err := os.ReadFile(filepath.Join(repoRoot, healthLuaPath))
	if err != nil {
		t.Fatal(err)
	}
	ret, ok := argoLua{now: time.Now()}.run(t, "health.lua", string(script), obj).(*lua.LTable)
	if !ok {
		t.Fatalf("health.lua did not return a table")
	}
	return luaHealth{Status: lua.LVAsString(ret.RawGetString("status")), Message: lua.LVAsString(ret.RawGetString("message"))}
}

// getUnstructured reads obj from the API server as unstructured, as Argo
// CD and Flux read it: with the fields the typed object would omit.
func getUnstructured(t *testing.T, obj *casesv1alpha1.CaseFieldUpdate) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(casesv1alpha1.GroupVersion.WithKind("CaseFieldUpdate"))
	if err := k8sClient.Get(context.Background(), client.ObjectKeyFromObject(obj), u); err != nil {
		t.Fatal(err)
	}
	return u
}

// findCondition returns the message of obj's condition of a type.
func findCondition(obj *casesv1alpha1.CaseFieldUpdate, condType string) string {
	for _, c := range obj.Status.Conditions {
		if c.Type == condType {
			return c.Message
		}
	}
	return ""
}

// writeFixture writes a live object as a fixture, without the fields that
// only identify one run.
func writeFixture(t *testing.T, name string, u *unstructured.Unstructured) {
	t.Helper()
	c := u.DeepCopy()
	c.SetManagedFields(nil)
	c.SetUID("")
	c.SetResourceVersion("")
	c.SetNamespace("default")
	c.SetLabels(nil)
	data, err := yaml.Marshal(c.Object)
	if err != nil {
		t.Fatal(err)
	}
	header := "# A live object the reconciler produced (TestHealthOfLiveObjects -update-fixtures).\n"
	if err := os.WriteFile(filepath.Join(repoRoot, healthDir, "testdata", name), append([]byte(header), data...), 0o644); err != nil {
		t.Fatal(err)
	}
}
