#!/usr/bin/env bash
# Checks that generated files are up to date.
#
#   hack/verify-clean.sh              fail when the work tree has any change
#                                     (make verify runs it after regenerating)
#   hack/verify-clean.sh --generated  regenerate into a scratch copy of the
#                                     sources and fail when a generated file
#                                     (CRD, RBAC, deepcopy) differs from the
#                                     work tree's; works on an edited tree
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" != "--generated" ]; then
  if [ -n "$(git status --porcelain)" ]; then
    echo "verify: the tree differs from what is committed after regenerating:" >&2
    git status --porcelain >&2
    git --no-pager diff --stat >&2
    exit 1
  fi
  exit 0
fi

controller_gen="$(hack/tool.sh sigs.k8s.io/controller-tools/cmd/controller-gen "${CONTROLLER_TOOLS_VERSION:-v0.23.0}")"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cp -r go.mod go.sum api controllers hack "$scratch/"
[ -d internal ] && cp -r internal "$scratch/"
mkdir -p "$scratch/config/crd/bases" "$scratch/config/rbac"
(
  cd "$scratch"
  rm -f api/*/zz_generated.deepcopy.go
  "$controller_gen" object:headerFile=hack/boilerplate.go.txt paths=./api/...
  "$controller_gen" rbac:roleName=manager-role crd:allowDangerousTypes=true paths=./api/... paths=./controllers/... \
    output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac
)
status=0
for f in $(cd "$scratch" && find api config -type f \( -name 'zz_generated*.go' -o -name '*.yaml' \)); do
  if ! diff -u "$f" "$scratch/$f" >&2; then
    echo "verify: $f is out of date: run make manifests generate" >&2
    status=1
  fi
done
for f in $(find config/crd/bases -type f -name '*.yaml'); do
  [ -f "$scratch/$f" ] || { echo "verify: $f is no longer generated: remove it" >&2; status=1; }
done
exit $status
