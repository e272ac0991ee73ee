#!/usr/bin/env bash
# Installs (once) a Go tool at a pinned version into the user's cache
# directory, keyed by version, and prints the path of its binary.
#
# Usage: hack/tool.sh PACKAGE VERSION
#   e.g. hack/tool.sh sigs.k8s.io/controller-tools/cmd/controller-gen v0.23.0
set -euo pipefail

pkg="$1"
version="$2"
name="$(basename "$pkg")"
# A major-version suffix (".../v3") is not the binary's name.
case "$name" in v[0-9]*) name="$(basename "$(dirname "$pkg")")" ;; esac

cache_root="${CONNECTCASES_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/connectcases-operator}"
dir="$cache_root/tools/$name-$version"
if [ ! -x "$dir/$name" ]; then
  printf 'tool: installing %s@%s\n' "$pkg" "$version" >&2
  mkdir -p "$dir"
  tmp="$(mktemp -d "$dir/.install.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  GOWORK=off GOFLAGS=-mod=mod GOBIN="$tmp" go install "$pkg@$version"
  mv "$tmp/$name" "$dir/$name"
fi
echo "$dir/$name"
