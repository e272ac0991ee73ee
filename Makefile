# connectcases-operator: build, test and run targets in the kubebuilder
# vocabulary. Tools and the local control plane are built once from the Go
# module proxy and cached in the user's cache directory, keyed by version.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

CONTROLLER_TOOLS_VERSION ?= v0.23.0
CONTROLLER_GEN ?= $(shell hack/tool.sh sigs.k8s.io/controller-tools/cmd/controller-gen $(CONTROLLER_TOOLS_VERSION))

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
manifests: ## Generate the CRD and RBAC manifests from the API and controller markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd:allowDangerousTypes=true paths="./api/..." paths="./controllers/..." \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac

.PHONY: generate
generate: ## Generate the DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: verify
verify: manifests generate ## Regenerate, then fail when the tree differs from what is committed.
	@hack/verify-clean.sh

.PHONY: controlplane
controlplane: ## Build (once) the local kube-apiserver, etcd and kubectl.
	@hack/controlplane.sh >/dev/null

.PHONY: test
test: vet ## Run every test: unit, emulator conformance, envtest and black-box.
	@hack/verify-clean.sh --generated
	KUBEBUILDER_ASSETS="$$(hack/controlplane.sh)" go test $(GO_TEST_FLAGS) -timeout $(TEST_TIMEOUT) -count=1 ./...

.PHONY: demo
demo: ## Run the operator end to end on a local control plane and the emulator.
	@hack/demo.sh

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
