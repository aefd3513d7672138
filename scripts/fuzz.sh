#!/usr/bin/env bash
# Runs every Go fuzz target in the module for the given time each (default 1m), one after
# the other: `make fuzz FUZZTIME=10m`. `make test` runs the seed corpora only, as ordinary
# tests; this is the longer, on-demand run.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${1:-1m}"
grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read -r file; do
  dir=$(dirname "$file")
  for target in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$file" | sed 's/^func //'); do
    echo "fuzz: $dir $target for $fuzztime"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$dir"
  done
done
