package packaging

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	casesv1alpha1 "github.com/connectcases-operator/connectcases-operator/api/v1alpha1"
)

// actionsDir holds the Argo CD resource actions of CaseFieldUpdate.
const actionsDir = healthDir + "/actions"

// actionNames are the actions, each in actionsDir/NAME/action.lua.
var actionNames = []string{"pause", "reapply", "resume"}

// actionClock is the time the fixtures of action_test.yaml are written for.
var actionClock = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// actionTests is Argo CD's action_test.yaml.
type actionTests struct {
	DiscoveryTests []struct {
		InputPath string           `json:"inputPath"`
		Result    []resourceAction `json:"result"`
	} `json:"discoveryTests"`
	ActionTests []struct {
		Action             string `json:"action"`
		InputPath          string `json:"inputPath"`
		ExpectedOutputPath string `json:"expectedOutputPath"`
	} `json:"actionTests"`
}

// actionScripts are a discovery script and the action scripts by name.
type actionScripts struct {
	discovery string
	actions   map[string]string
}

// configActions reads the scripts of config/argocd.
func configActions(t *testing.T) actionScripts {
	t.Helper()
	read := func(path string) string {
		data, err := os.ReadFile(filepath.Join(repoRoot, path))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	s := actionScripts{discovery: read(actionsDir + "/discovery.lua"), actions: map[string]string{}}
	for _, name := range actionNames {
		s.actions[name] = read(actionsDir + "/" + name + "/action.lua")
	}
	return s
}

// TestArgoCDActionFixtures runs discovery.lua and each action.lua over the
// fixtures of action_test.yaml, Argo CD's own test layout: discovery offers
// exactly the listed actions, and each action turns its input into the
// expected object.
func TestArgoCDActionFixtures(t *testing.T) {
	g := NewWithT(t)
	data, err := os.ReadFile(filepath.Join(repoRoot, actionsDir, "action_test.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	var tests actionTests
	g.Expect(yaml.UnmarshalStrict(data, &tests)).To(Succeed())
	dirs, err := filepath.Glob(filepath.Join(repoRoot, actionsDir, "*", "action.lua"))
	g.Expect(err).NotTo(HaveOccurred())
	var found []string
	for _, d := range dirs {
		found = append(found, filepath.Base(filepath.Dir(d)))
	}
	g.Expect(found).To(ConsistOf(actionNames), "every action directory is tested")

	scripts := configActions(t)
	vm := argoLua{now: actionClock}
	tested := map[string]bool{}
	for _, tc := range tests.DiscoveryTests {
		t.Run("discovery/"+tc.InputPath, func(t *testing.T) {
			want := append([]resourceAction(nil), tc.Result...)
			sort.Slice(want, func(i, j int) bool { return want[i].Name < want[j].Name })
			got := vm.discover(t, scripts.discovery, readYAMLObject(t, actionsDir+"/"+tc.InputPath))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("discovery (-want +got):\n%s", diff)
			}
		})
	}
	for _, tc := range tests.ActionTests {
		tested[tc.Action] = true
		t.Run("actions/"+tc.Action+"/"+tc.InputPath, func(t *testing.T) {
			script, ok := scripts.actions[tc.Action]
			if !ok {
				t.Fatalf("no action %s", tc.Action)
			}
			got := vm.runAction(t, tc.Action+"/action.lua", script, readYAMLObject(t, actionsDir+"/"+tc.InputPath))
			want := jsonCopy(t, readYAMLObject(t, actionsDir+"/"+tc.ExpectedOutputPath))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s on %s (-want +got):\n%s", tc.Action, tc.InputPath, diff)
			}
		})
	}
	g.Expect(tested).To(HaveLen(len(actionNames)), "each action has a fixture")
}

// TestArgoCDActionsOnLiveObjects runs the actions as Argo CD does on objects
// the reconciler manages: the script's output becomes a JSON merge patch
// of the live object, sent to the API server. Pause pauses, resume resumes
// (also when the pause was the object's only annotation), reapply sends
// the spec again (twice within one second too), and a reapply while paused
// is handled on resume.
func TestArgoCDActionsOnLiveObjects(t *testing.T) {
	g := NewWithT(t)
	w := newWorld(t)
	w.startManager(managerOptions{})
	ctx := context.Background()
	scripts := configActions(t)

	obj := w.newObject("actions", "case-1", true, field("priority", "high"))
	g.Expect(k8sClient.Create(ctx, obj)).To(Succeed())
	live := w.waitForReason(obj, casesv1alpha1.AppliedReason)

	act := func(name string, now time.Time) {
		t.Helper()
		u := getUnstructured(t, obj)
		out := argoLua{now: now}.runAction(t, name+"/action.lua", scripts.actions[name], u.Object)
		before, err := json.Marshal(u.Object)
		g.Expect(err).NotTo(HaveOccurred())
		after, err := json.Marshal(out)
		g.Expect(err).NotTo(HaveOccurred())
		patch, err := jsonpatch.CreateMergePatch(before, after)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(string(patch)).NotTo(Equal("{}"), "%s changes the object", name)
		g.Expect(k8sClient.Patch(ctx, u, client.RawPatch(types.MergePatchType, patch))).To(Succeed(), "patch %s", patch)
	}
	offered := func() map[string]bool {
		t.Helper()
		enabled := map[string]bool{}
		for _, a := range (argoLua{now: actionClock}).discover(t, scripts.discovery, getUnstructured(t, obj).Object) {
			enabled[a.Name] = !a.Disabled
		}
		return enabled
	}
	handled := func(token string) *casesv1alpha1.CaseFieldUpdate {
		t.Helper()
		cur := &casesv1alpha1.CaseFieldUpdate{}
		g.Eventually(func(g Gomega) string {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), cur)).To(Succeed())
			return cur.Status.LastHandledReconcileAt
		}, timeout, interval).Should(Equal(token))
		return cur
	}

	g.Expect(offered()).To(Equal(map[string]bool{"reapply": true, "pause": true, "resume": false}))
	g.Expect(live.Annotations).To(BeEmpty(), "the pause will be the only annotation")

	act("pause", actionClock)
	w.waitForReason(obj, casesv1alpha1.PausedReason)
	g.Expect(offered()).To(Equal(map[string]bool{"reapply": true, "pause": false, "resume": true}))

	act("resume", actionClock)
	resumed := w.waitForReason(obj, casesv1alpha1.AppliedReason)
	g.Expect(resumed.Annotations).NotTo(HaveKey(casesv1alpha1.PausedAnnotation))
	g.Expect(offered()).To(Equal(map[string]bool{"reapply": true, "pause": true, "resume": false}))

	act("reapply", actionClock)
	first := handled("2026-01-02T03:04:05Z")
	g.Expect(first.Status.LastRequestID).NotTo(Equal(live.Status.LastRequestID), "reapply sends UpdateCase again")

	act("reapply", actionClock)
	again := handled("2026-01-02T03:04:05Z-again")
	g.Expect(again.Status.LastRequestID).NotTo(Equal(first.Status.LastRequestID))

	later := actionClock.Add(time.Minute)
	act("pause", later)
	w.waitForReason(obj, casesv1alpha1.PausedReason)
	act("reapply", later)
	act("resume", later)
	resumedAfterRequest := handled("2026-01-02T03:05:05Z")
	g.Expect(resumedAfterRequest.Status.LastRequestID).NotTo(Equal(again.Status.LastRequestID), "the request waited for resume")
	g.Expect(resumedAfterRequest.Annotations).NotTo(HaveKey(casesv1alpha1.PausedAnnotation))
}

// argoActionsFromChart reads the argocd-cm actions key that the chart
// renders, in Argo CD's format for resource.customizations.actions.
func argoActionsFromChart(t *testing.T, cm *unstructured.Unstructured) actionScripts {
	t.Helper()
	data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
	raw, ok := data[argoActionsKey]
	if !ok {
		t.Fatalf("ConfigMap %s has no key %s", cm.GetName(), argoActionsKey)
	}
	var actions struct {
		Discovery   string `json:"discovery.lua"`
		Definitions []struct {
			Name      string `json:"name"`
			ActionLua string `json:"action.lua"`
		} `json:"definitions"`
	}
	if err := yaml.UnmarshalStrict([]byte(raw), &actions); err != nil {
		t.Fatalf("%s is not Argo CD's actions format: %v", argoActionsKey, err)
	}
	s := actionScripts{discovery: actions.Discovery, actions: map[string]string{}}
	for _, d := range actions.Definitions {
		s.actions[d.Name] = d.ActionLua
	}
	return s
}
