# connectcases-operator: build, test and run targets in the kubebuilder
# vocabulary. Tools and the local control plane are built once from the Go
# module proxy and cached in the user's cache directory, keyed by version.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

CONTROLLER_TOOLS_VERSION ?= v0.23.0
CONTROLLER_GEN ?= $(shell hack/tool.sh sigs.k8s.io/controller-tools/cmd/controller-gen $(CONTROLLER_TOOLS_VERSION))
HELM_VERSION ?= v3.22.0
# The Kubernetes version the chart is rendered for; a helm built from source
# defaults to an old one.
KUBE_VERSION ?= 1.37.2
HELM ?= $(shell hack/tool.sh helm.sh/helm/v3/cmd/helm $(HELM_VERSION))
# Helm 4, cached apart from Helm 3 (hack/tool.sh keys by name and version):
# the chart is linted with both.
HELM4_VERSION ?= v4.3.1
HELM4 ?= $(shell hack/tool.sh helm.sh/helm/v4/cmd/helm $(HELM4_VERSION))
GOLANGCI_LINT_VERSION ?= v2.15.0
GOLANGCI_LINT ?= $(shell hack/tool.sh github.com/golangci/golangci-lint/v2/cmd/golangci-lint $(GOLANGCI_LINT_VERSION))

IMG ?= ghcr.io/connectcases-operator/connectcases-operator:latest
GO_TEST_FLAGS ?= -race
TEST_TIMEOUT ?= 30m

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  %-18s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: ## Generate the CRD and RBAC manifests from the API and controller markers, and copy them into the Helm chart.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd:allowDangerousTypes=true paths="./api/..." paths="./controllers/..." \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac
	@$(MAKE) --no-print-directory helm-sync-files

.PHONY: generate
generate: ## Generate the DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: ## Run golangci-lint (govet, staticcheck, errcheck, revive, ...; see .golangci.yml).
	$(GOLANGCI_LINT) run ./...

.PHONY: verify
verify: manifests generate ## Regenerate, then fail when the tree differs from what is committed.
	@hack/verify-clean.sh

.PHONY: controlplane
controlplane: ## Build (once) the local kube-apiserver, etcd and kubectl.
	@hack/controlplane.sh >/dev/null

# The oldest supported Kubernetes version: the admission tests and a smoke
# test also run on it (internal/testenv.OldestKubeVersion names it too).
OLDEST_KUBE_VERSION ?= 1.32.13

.PHONY: test
test: vet lint ## Run every test: unit, emulator conformance, envtest and black-box.
	@hack/verify-clean.sh --generated
	KUBEBUILDER_ASSETS="$$(hack/controlplane.sh)" \
	KUBEBUILDER_ASSETS_OLDEST="$$(KUBE_VERSION=$(OLDEST_KUBE_VERSION) hack/controlplane.sh)" \
		go test $(GO_TEST_FLAGS) -timeout $(TEST_TIMEOUT) -count=1 ./...

.PHONY: demo
# On a first run the control plane starts building at once, beside the
# demo's own compilation (the demo then waits for it: hack/controlplane.sh
# holds a lock), so that the downloads of either overlap the other's
# compilation. The demo is built without cgo, as it builds the manager and
# the emulator: the packages they share (controller-runtime, client-go, ...)
# are then compiled once.
demo: ## Run the operator end to end on a local control plane and the emulator (DEMO_EXIT=1 to stop at once).
	@hack/controlplane.sh >/dev/null &
	CGO_ENABLED=0 go run ./hack/demo

.PHONY: bench
bench: ## Measure throughput, quota use and memory at scale; writes bench/results.json (BENCH_FLAGS="-scale 0.1 -only A").
	go run ./test/bench $(BENCH_FLAGS)

.PHONY: soak
soak: ## Soak test: 1000 objects under injected faults and manager kills (SOAK_N to change).
	KUBEBUILDER_ASSETS="$$(hack/controlplane.sh)" SOAK_N=$${SOAK_N:-1000} go test ./test/soak -run TestSoak -count=1 -timeout 60m -v

##@ Build

.PHONY: build
build: ## Build the manager and the emulator into bin/.
	CGO_ENABLED=0 go build -trimpath -o bin/manager ./cmd/manager
	CGO_ENABLED=0 go build -trimpath -o bin/cases-emulator ./cmd/cases-emulator

.PHONY: run
run: manifests generate ## Run the manager from your host against the current kubeconfig.
	go run ./cmd/manager

##@ Deployment

.PHONY: install
install: manifests ## Install the CRD into the cluster of the current kubeconfig.
	kubectl apply --server-side -f config/crd/bases

.PHONY: uninstall
uninstall: manifests ## Remove the CRD (and every CaseFieldUpdate) from the cluster.
	kubectl delete --ignore-not-found -f config/crd/bases

.PHONY: deploy
deploy: manifests ## Deploy the operator (config/default, image IMG) to the cluster of the current kubeconfig.
	@hack/kustomize.sh set-image "$(IMG)" | kubectl apply --server-side -f -

.PHONY: undeploy
undeploy: ## Remove the operator (but not the CRD's objects' cases) from the cluster of the current kubeconfig.
	@hack/kustomize.sh set-image "$(IMG)" | kubectl delete --ignore-not-found -f -

.PHONY: build-installer
build-installer: manifests ## Write dist/install.yaml: the CRD, RBAC and the manager (image IMG) in one file, with the pinned kustomize.
	@mkdir -p dist
	hack/kustomize.sh set-image "$(IMG)" > dist/install.yaml
	@echo "wrote dist/install.yaml"

##@ Packaging

.PHONY: helm-sync
helm-sync: manifests ## Copy the generated CRD, the RBAC rules and the Argo CD health check and actions into the Helm chart.

.PHONY: helm-sync-files
helm-sync-files:
	rm -f charts/connectcases-operator/files/crds/*.yaml
	cp config/crd/bases/*.yaml charts/connectcases-operator/files/crds/
	cp config/rbac/role.yaml config/rbac/leader_election_role.yaml charts/connectcases-operator/files/rbac/
	cp config/rbac/value-from/role.yaml charts/connectcases-operator/files/rbac/value_from_role.yaml
	rm -rf charts/connectcases-operator/files/argocd
	mkdir -p charts/connectcases-operator/files/argocd
	cd config/argocd/resource_customizations/cases.connectcases.dev/CaseFieldUpdate && \
		for f in health.lua $$(find actions -name '*.lua' | sort); do \
			mkdir -p "$(CURDIR)/charts/connectcases-operator/files/argocd/$$(dirname "$$f")" && \
			cp "$$f" "$(CURDIR)/charts/connectcases-operator/files/argocd/$$f"; \
		done

.PHONY: helm-lint
helm-lint: ## Lint the Helm chart with Helm 3 and Helm 4, with its default values and with every option on.
	$(HELM) lint --strict charts/connectcases-operator
	$(HELM) lint --strict charts/connectcases-operator -f test/packaging/testdata/values-all.yaml
	$(HELM4) lint --strict charts/connectcases-operator
	$(HELM4) lint --strict charts/connectcases-operator -f test/packaging/testdata/values-all.yaml
	$(HELM4) lint --strict examples/helm-case-updates

.PHONY: helm-template
helm-template: ## Render the Helm chart with its default values.
	$(HELM) template connectcases-operator charts/connectcases-operator --namespace connectcases-system --kube-version $(KUBE_VERSION)

.PHONY: verify-static
verify-static: ## Check that the manager builds as a static binary (no interpreter, no shared library).
	go test ./test/packaging/ -run TestManagerBinaryIsStatic -count=1

.PHONY: docker-build
docker-build: ## Build the manager image IMG (needs a Docker engine).
	docker build -t $(IMG) .

.PHONY: docker-push
docker-push: ## Push the manager image IMG.
	docker push $(IMG)

##@ Release

.PHONY: release
release: manifests ## Write release VERSION (SemVer, no v) into dist/: install.yaml, the chart, manager binaries for linux/amd64 and arm64, SHA256SUMS.
	HELM="$(HELM)" hack/release.sh "$(VERSION)" dist
