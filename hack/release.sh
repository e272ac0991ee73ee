#!/usr/bin/env bash
# Builds the artefacts of a release into a directory (dist/ by default):
#
#   install.yaml                          the CRD, RBAC and the manager, image
#                                         IMAGE_REPOSITORY:VERSION
#   connectcases-operator-VERSION.tgz     the Helm chart, version and
#                                         appVersion VERSION
#   manager-VERSION-linux-amd64           static manager binaries
#   manager-VERSION-linux-arm64           (CGO_ENABLED=0, -trimpath, version
#                                         stamped into main.version)
#   SHA256SUMS                            sha256sum -c checks the files above
#
# Usage: hack/release.sh VERSION [OUT_DIR]
#   VERSION is a SemVer 2.0.0 version without a leading v (1.2.3, 1.2.3-rc.1).
# Environment: IMAGE_REPOSITORY (the manager image, without tag), HELM (a helm
# binary; built with hack/tool.sh when unset), HELM_VERSION.
#
# The tree is packaged as it is: run `make manifests` first (make release does).
set -euo pipefail
cd "$(dirname "$0")/.."

version="${1:-}"
out="${2:-dist}"
image_repository="${IMAGE_REPOSITORY:-ghcr.io/connectcases-operator/connectcases-operator}"
platforms=(linux/amd64 linux/arm64)
start=$SECONDS

log() { printf 'release: [%ds] %s\n' "$((SECONDS - start))" "$*" >&2; }

# SemVer 2.0.0: MAJOR.MINOR.PATCH without leading zeros, then an optional
# pre-release (dot-separated identifiers, numeric ones without leading
# zeros) and optional build metadata.
num='(0|[1-9][0-9]*)'
ident='([0-9]*[A-Za-z-][0-9A-Za-z-]*|0|[1-9][0-9]*)'
semver="^${num}\.${num}\.${num}(-${ident}(\.${ident})*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$"
if ! [[ "$version" =~ $semver ]]; then
  echo "release: VERSION must be a SemVer version without a leading v (1.2.3, 1.2.3-rc.1), got '$version'" >&2
  exit 2
fi
# An image tag may not hold '+': build metadata cannot name an image.
case "$version" in
  *+*) echo "release: VERSION '$version' has build metadata ('+'), which an image tag cannot hold" >&2; exit 2 ;;
esac

helm="${HELM:-$(hack/tool.sh helm.sh/helm/v3/cmd/helm "${HELM_VERSION:-v3.22.0}")}"

mkdir -p "$out"
stage="$(mktemp -d "$out/.release.XXXXXX")"
trap 'rm -rf "$stage"' EXIT

log "writing install.yaml (image ${image_repository}:${version})"
hack/kustomize.sh set-image "${image_repository}:${version}" > "$stage/install.yaml"

log "packaging the Helm chart"
"$helm" package charts/connectcases-operator --version "$version" --app-version "$version" \
  --destination "$stage" >/dev/null

binaries=()
for platform in "${platforms[@]}"; do
  goos="${platform%/*}" goarch="${platform#*/}"
  bin="manager-${version}-${goos}-${goarch}"
  log "building $bin"
  CGO_ENABLED=0 GOOS="$goos" GOARCH="$goarch" go build -trimpath \
    -ldflags "-s -w -X main.version=${version}" -o "$stage/$bin" ./cmd/manager
  binaries+=("$bin")
done

artefacts=(install.yaml "connectcases-operator-${version}.tgz" "${binaries[@]}")
(cd "$stage" && sha256sum "${artefacts[@]}" > SHA256SUMS)

for f in "${artefacts[@]}" SHA256SUMS; do
  mv -f "$stage/$f" "$out/$f"
done
log "wrote ${artefacts[*]} SHA256SUMS to $out"
