package packaging

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// restrictedNamespace enforces the restricted Pod Security Standard.
const restrictedNamespace = "psa-restricted"

// TestManagerMeetsRestrictedPodSecurity checks the manager's pod template
// of every install against the restricted Pod Security Standard twice:
// with the Pod Security Admission library's own evaluator, and by the API
// server's PodSecurity admission, dry-running the template as a Pod in a
// namespace that enforces restricted.
func TestManagerMeetsRestrictedPodSecurity(t *testing.T) {
	ensureNamespace(t, restrictedNamespace, map[string]string{
		api.EnforceLevelLabel:   string(api.LevelRestricted),
		api.EnforceVersionLabel: api.VersionLatest,
	})
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	restricted := api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}

	for name, objs := range installs(t) {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			pod := podFromDeployment(t, findObject(t, objs, "Deployment"))

			result := policy.AggregateCheckResults(evaluator.EvaluatePod(restricted, &pod.ObjectMeta, &pod.Spec))
			g.Expect(result.Allowed).To(BeTrue(), "%s: %s", result.ForbiddenReason(), result.ForbiddenDetail())

			g.Expect(k8sClient.Create(context.Background(), pod, client.DryRunAll)).To(Succeed())
		})
	}
}

// TestRestrictedNamespaceRefusesAWeakerPod shows that the API server does
// enforce the namespace's level, so that the dry-run above proves
// something: the same pod without its seccomp profile and with privilege
// escalation is refused.
func TestRestrictedNamespaceRefusesAWeakerPod(t *testing.T) {
	g := NewWithT(t)
	ensureNamespace(t, restrictedNamespace, map[string]string{
		api.EnforceLevelLabel:   string(api.LevelRestricted),
		api.EnforceVersionLabel: api.VersionLatest,
	})
	pod := podFromDeployment(t, findObject(t, decodeObjects(t, kustomizeBuild(t, "config/default")), "Deployment"))
	pod.Spec.SecurityContext.SeccompProfile = nil
	pod.Spec.Containers[0].SecurityContext.SeccompProfile = nil
	pod.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = ptr.To(true)
	err := k8sClient.Create(context.Background(), pod, client.DryRunAll)
	g.Expect(err).To(MatchError(ContainSubstring("violates PodSecurity \"restricted:latest\"")))
}

// podFromDeployment returns the Deployment's pod template as a Pod of the
// restricted namespace.
func podFromDeployment(t *testing.T, deploy *unstructured.Unstructured) *corev1.Pod {
	t.Helper()
	tmpl, found, err := unstructured.NestedMap(deploy.Object, "spec", "template")
	if err != nil || !found {
		t.Fatalf("Deployment %s has no pod template: %v", deploy.GetName(), err)
	}
	spec := &corev1.PodTemplateSpec{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(tmpl, spec); err != nil {
		t.Fatal(err)
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "manager-", Namespace: restrictedNamespace, Labels: spec.Labels, Annotations: spec.Annotations},
		Spec:       spec.Spec,
	}
}
