#!/usr/bin/env bash
# Installs what the test suite needs and is missing, so that `make test` works on a fresh
# machine: the MinIO server (built with `go install` into the tools folder, about three
# minutes the first time), staticcheck, and Debian's chromium and nats-server packages.
set -euo pipefail

tools="${HOCTAP_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hoctap/bin}"
minio_version="v0.0.0-20260212201848-7aac2a2c5b7c"
staticcheck_version="v0.8.2"
mkdir -p "$tools"

if [ ! -x "$tools/minio" ]; then
  echo "test-deps: building the MinIO server $minio_version into $tools (about 3 minutes, once)"
  GOBIN="$tools" GOFLAGS=-buildvcs=false go install "github.com/minio/minio@$minio_version"
fi

if [ ! -x "$tools/staticcheck" ]; then
  echo "test-deps: installing staticcheck $staticcheck_version into $tools"
  GOBIN="$tools" go install "honnef.co/go/tools/cmd/staticcheck@$staticcheck_version"
fi

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)
if [ ${#missing[@]} -gt 0 ]; then
  echo "test-deps: installing Debian packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
