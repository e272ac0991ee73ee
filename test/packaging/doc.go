// Package packaging tests the operator the way users install and run it:
// the kustomize build (dist/install.yaml) and the Helm chart applied with
// server-side dry-run to a real API server, the Pod Security Standard of
// the manager, the least-privilege RBAC exercised by an impersonated
// reconciler, the Argo CD health check and kstatus on live objects, the
// metrics endpoint, secret-free logs and the static manager binary.
//
// The tests need the local control plane (KUBEBUILDER_ASSETS, or
// hack/controlplane.sh) and, for the chart, the pinned helm binary that
// hack/tool.sh builds once.
package packaging
