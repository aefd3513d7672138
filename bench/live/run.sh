#!/usr/bin/env bash
# Runs the live-session load generator at 1,000, 5,000 and 10,000 clients on loopback.
# Each client is one socket in this process and one in the server child, so the open-file
# limit is raised first (as far as the hard limit allows).
#
#   bench/live/run.sh                 # 30 s of 10 messages/s per size
#   DURATION=60s RATE=20 bench/live/run.sh 2000 8000
set -euo pipefail
cd "$(dirname "$0")/../.."
want=65536
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then
  want=$hard
fi
ulimit -n "$want"
bin=$(mktemp -d)/live-bench
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./bench/live
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 5000 10000)
for n in "${sizes[@]}"; do
  if [ $((n + 100)) -gt "$want" ]; then
    echo "skipping $n clients: the open-file limit is $want" >&2
    continue
  fi
  "$bin" -n "$n" -rate "${RATE:-10}" -duration "${DURATION:-30s}"
  echo
done
