#!/usr/bin/env bash
# make dist: cross-build evdeploy for every supported platform into dist/,
# reproducibly, with a SHA256SUMS file. The same commit and Go version give
# byte-identical binaries on any machine: no paths (-trimpath), no build id,
# no cgo, no VCS stamp (the version comes from VERSION, the tag by default).
#
#   make dist                       # version from `git describe --tags`
#   make dist VERSION=v0.4.0        # explicit
#   PLATFORMS="linux/amd64" make dist
set -euo pipefail
cd "$(dirname "$0")/.."
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
platforms=${PLATFORMS:-"linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64"}
out=dist
rm -rf "$out"
mkdir -p "$out"
failed=()
for p in $platforms; do
  os=${p%/*} arch=${p#*/} ext=
  [ "$os" = windows ] && ext=.exe
  bin="$out/evdeploy-$version-$os-$arch$ext"
  echo "building $bin"
  if ! CGO_ENABLED=0 GOOS=$os GOARCH=$arch GOFLAGS=-buildvcs=false \
      go build -trimpath -ldflags "-s -w -buildid= -X main.version=$version" -o "$bin" ./cmd/evdeploy; then
    failed+=("$p")
  fi
done
(cd "$out" && sha256sum evdeploy-* > SHA256SUMS)
cat "$out/SHA256SUMS"
if [ ${#failed[@]} -gt 0 ]; then
  echo "dist: these platforms did not build: ${failed[*]}" >&2
  exit 1
fi
