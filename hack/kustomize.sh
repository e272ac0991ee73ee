#!/usr/bin/env bash
# Builds the operator's manifests with a pinned kustomize, built once from
# the Go module proxy by hack/tool.sh and cached by version: v5.8.1 is the
# kustomize that kubectl 1.37 embeds (`kubectl kustomize`), so both give the
# same output.
#
# Usage: hack/kustomize.sh set-image IMAGE [DIR]
#   prints the build of DIR (config/default by default) with the manager's
#   image set to IMAGE (name:tag or name@sha256:digest).
set -euo pipefail
cd "$(dirname "$0")/.."

KUSTOMIZE_VERSION="${KUSTOMIZE_VERSION:-v5.8.1}"

[ "${1:-}" = "set-image" ] && [ -n "${2:-}" ] || { echo "usage: $0 set-image IMAGE [DIR]" >&2; exit 2; }
image="$2"
dir="$(cd "${3:-config/default}" && pwd)"
kustomize="$(hack/tool.sh sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION")"

# name[:tag] or name@digest; a ':' before the last '/' is a registry port.
name="$image" tag="" digest=""
case "$image" in
  *@*) name="${image%@*}"; digest="${image#*@}" ;;
  *)
    last="${image##*/}"
    if [ "${last#*:}" != "$last" ]; then name="${image%:*}"; tag="${image##*:}"; fi
    ;;
esac

overlay="$(mktemp -d)"
trap 'rm -rf "$overlay"' EXIT
{
  echo "apiVersion: kustomize.config.k8s.io/v1beta1"
  echo "kind: Kustomization"
  echo "resources:"
  echo "- $(realpath --relative-to="$overlay" "$dir")"
  echo "images:"
  echo "- name: ghcr.io/connectcases-operator/connectcases-operator"
  echo "  newName: $name"
  [ -n "$tag" ] && echo "  newTag: \"$tag\""
  [ -n "$digest" ] && echo "  digest: $digest"
} > "$overlay/kustomization.yaml"
"$kustomize" build "$overlay"
