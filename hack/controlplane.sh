#!/usr/bin/env bash
# Builds (once) and caches the local control plane used by the tests and the
# demo: kube-apiserver, etcd and kubectl, compiled from their Go modules.
#
# No cluster and no binary download is needed: the sources come from the Go
# module proxy. The binaries are cached outside the clone, in the user's cache
# directory, keyed by version, so every clone on the machine shares them.
#
# Usage: hack/controlplane.sh        prints the directory holding the binaries
#                                    (suitable for KUBEBUILDER_ASSETS)
# Progress goes to stderr; only the directory goes to stdout.
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-3.7.3}"
# The staging modules (k8s.io/api, ...) are published as v0.MINOR.PATCH.
STAGING_VERSION="v0.${KUBE_VERSION#*.}"

cache_root="${CONNECTCASES_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/connectcases-operator}"
dest="$cache_root/controlplane/k8s-v${KUBE_VERSION}-etcd-v${ETCD_VERSION}"

log() { printf 'controlplane: %s\n' "$*" >&2; }

complete() {
  [ -x "$dest/kube-apiserver" ] && [ -x "$dest/etcd" ] && [ -x "$dest/kubectl" ]
}

if complete; then
  echo "$dest"
  exit 0
fi

mkdir -p "$cache_root/controlplane"
# One builder at a time per machine: a second caller waits, then finds the cache.
exec 9>"$cache_root/controlplane/.lock"
if command -v flock >/dev/null 2>&1; then
  log "waiting for the build lock"
  flock 9
fi
if complete; then
  echo "$dest"
  exit 0
fi

work="$(mktemp -d "$cache_root/controlplane/.build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
out="$work/out"
mkdir -p "$out"

export CGO_ENABLED=0 GOFLAGS=-mod=mod GOWORK=off

# kube-apiserver and kubectl: a throwaway module requiring k8s.io/kubernetes,
# with every staging module it lists at v0.0.0 replaced by its published build.
log "resolving k8s.io/kubernetes v${KUBE_VERSION}"
gomod="$(go mod download -json "k8s.io/kubernetes@v${KUBE_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')"
mkdir -p "$work/kube"
(
  cd "$work/kube"
  go mod init connectcases.local/controlplane-kube >/dev/null 2>&1
  go mod edit -require="k8s.io/kubernetes@v${KUBE_VERSION}"
  for m in $(awk '$2 == "v0.0.0" && $1 ~ /^k8s\.io\// {print $1}' "$gomod" | sort -u); do
    go mod edit -replace="$m=$m@${STAGING_VERSION}"
  done
  build=(k8s.io/kubernetes/cmd/kube-apiserver)
  # kubectl on PATH is used when it is within one minor of the API server.
  want_minor="$(echo "$KUBE_VERSION" | cut -d. -f2)"
  have_minor=""
  if command -v kubectl >/dev/null 2>&1; then
    have_minor="$(kubectl version --client -o json 2>/dev/null | sed -n 's/.*"minor": "\([0-9]*\).*/\1/p' | head -1)"
  fi
  if [ -n "$have_minor" ] && [ $(( have_minor - want_minor )) -le 1 ] && [ $(( want_minor - have_minor )) -le 1 ]; then
    ln -s "$(command -v kubectl)" "$out/kubectl"
    log "using kubectl from PATH (minor $have_minor)"
  else
    build+=(k8s.io/kubernetes/cmd/kubectl)
  fi
  log "building ${build[*]} (several minutes on a cold cache)"
  go build -trimpath -ldflags "-s -w \
    -X k8s.io/component-base/version.gitVersion=v${KUBE_VERSION} \
    -X k8s.io/component-base/version.gitMajor=1 \
    -X k8s.io/component-base/version.gitMinor=${want_minor} \
    -X k8s.io/client-go/pkg/version.gitVersion=v${KUBE_VERSION} \
    -X k8s.io/client-go/pkg/version.gitMajor=1 \
    -X k8s.io/client-go/pkg/version.gitMinor=${want_minor}" \
    -o "$out/" "${build[@]}"
)

# etcd: its main package is the server module itself.
log "building etcd v${ETCD_VERSION}"
mkdir -p "$work/etcd"
(
  cd "$work/etcd"
  go mod init connectcases.local/controlplane-etcd >/dev/null 2>&1
  go mod edit -require="go.etcd.io/etcd/server/v3@v${ETCD_VERSION}"
  go build -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3
)

rm -rf "$dest"
mv "$out" "$dest"
log "ready in $dest"
echo "$dest"
