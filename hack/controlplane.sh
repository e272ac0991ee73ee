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
# Environment: KUBE_VERSION (1.37.2), ETCD_VERSION (3.7.3),
# CONNECTCASES_CACHE_DIR (the cache directory).
# Progress goes to stderr, each line with the time since the start; only the
# directory goes to stdout.
#
# A cold build is bound by the CPU compiling kube-apiserver, so everything
# else runs beside it: the project's modules (which the caller builds next)
# are downloaded, and etcd is fetched and built, while kube-apiserver's
# modules download and it compiles.
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-3.7.3}"
# The staging modules (k8s.io/api, ...) are published as v0.MINOR.PATCH.
STAGING_VERSION="v0.${KUBE_VERSION#*.}"

root="$(cd "$(dirname "$0")/.." && pwd)"
cache_root="${CONNECTCASES_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/connectcases-operator}"
dest="$cache_root/controlplane/k8s-v${KUBE_VERSION}-etcd-v${ETCD_VERSION}"

start="$(date +%s)"
log() {
  local s=$(( $(date +%s) - start ))
  printf 'controlplane: [%dm%02ds] %s\n' $((s / 60)) $((s % 60)) "$*" >&2
}

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
out="$work/out"
mkdir -p "$out"
# Background jobs still running when the script ends (an error, Ctrl-C) are
# stopped with it: each job's go command, then the job.
jobs_pids=()
cleanup() {
  for pid in "${jobs_pids[@]}"; do
    pkill -TERM -P "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The project's modules, with the caller's own Go settings: the demo and the
# tests build the project right after this script, and the downloads cost
# no CPU that the compiler needs.
if [ -f "$root/go.mod" ]; then
  (cd "$root" && exec go mod download) >"$work/project-download.log" 2>&1 &
  project_pid=$!
  jobs_pids+=("$project_pid")
fi

export CGO_ENABLED=0 GOFLAGS=-mod=mod GOWORK=off
# The binaries are stripped (-s -w), so the DWARF that the compiler writes
# for every package would only be thrown away by the linker: not writing it
# takes about a fifth off the compile time, and the code is the same.
gcflags="all=-dwarf=false"

# etcd: its main package is the server module itself. Fetched and built in
# the background: it downloads while kube-apiserver's much larger module set
# does, and its compilation fills the cores while those downloads wait on
# the network.
mkdir -p "$work/etcd"
(
  cd "$work/etcd"
  exec 3>"$work/etcd.log"
  go mod init connectcases.local/controlplane-etcd >&3 2>&1
  go mod edit -require="go.etcd.io/etcd/server/v3@v${ETCD_VERSION}"
  log "etcd v${ETCD_VERSION}: downloading its modules (in the background)"
  go list -deps go.etcd.io/etcd/server/v3 >/dev/null 2>&3
  log "etcd v${ETCD_VERSION}: building (in the background)"
  go build -trimpath -gcflags="$gcflags" -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3 >&3 2>&1
  log "etcd v${ETCD_VERSION}: built"
) &
etcd_pid=$!
jobs_pids+=("$etcd_pid")

# kube-apiserver and kubectl: a throwaway module requiring k8s.io/kubernetes,
# with every staging module it lists at v0.0.0 replaced by its published build.
log "resolving k8s.io/kubernetes v${KUBE_VERSION}"
gomod="$(go mod download -json "k8s.io/kubernetes@v${KUBE_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')"
mkdir -p "$work/kube"
cd "$work/kube"
go mod init connectcases.local/controlplane-kube >/dev/null 2>&1
go mod edit -require="k8s.io/kubernetes@v${KUBE_VERSION}"
for m in $(awk '$2 == "v0.0.0" && $1 ~ /^k8s\.io\// {print $1}' "$gomod" | sort -u); do
  go mod edit -replace="$m=$m@${STAGING_VERSION}"
done
build=(k8s.io/kubernetes/cmd/kube-apiserver)
# kubectl (the demo and the end-to-end tests use it) comes from PATH when it
# is within one minor of the API server; else it is built with
# kube-apiserver, with which it shares most of its packages.
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
log "downloading the modules of ${build[*]##*/}"
go list -deps "${build[@]}" >/dev/null
log "building ${build[*]##*/} v${KUBE_VERSION} (about 5 minutes on 2 idle cores)"
go build -trimpath -gcflags="$gcflags" -ldflags "-s -w \
  -X k8s.io/component-base/version.gitVersion=v${KUBE_VERSION} \
  -X k8s.io/component-base/version.gitMajor=1 \
  -X k8s.io/component-base/version.gitMinor=${want_minor} \
  -X k8s.io/client-go/pkg/version.gitVersion=v${KUBE_VERSION} \
  -X k8s.io/client-go/pkg/version.gitMajor=1 \
  -X k8s.io/client-go/pkg/version.gitMinor=${want_minor}" \
  -o "$out/" "${build[@]}"
log "built ${build[*]##*/}"

if ! wait "$etcd_pid"; then
  cat "$work/etcd.log" >&2
  log "building etcd v${ETCD_VERSION} failed"
  exit 1
fi
if [ -n "${project_pid:-}" ] && ! wait "$project_pid"; then
  # Not fatal: the caller's own go command downloads what is missing.
  log "downloading the project's modules failed: $(tail -1 "$work/project-download.log")"
fi
jobs_pids=()

rm -rf "$dest"
mv "$out" "$dest"
log "ready in $dest"
echo "$dest"
