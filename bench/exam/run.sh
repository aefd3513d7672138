#!/usr/bin/env bash
# Runs the exam-spike load generator at 500, 2,000 and 5,000 learners on loopback.
# Every learner keeps one connection open, and client and server share this process (two
# descriptors per learner), so the open-file limit is raised first as far as allowed.
#
#   bench/exam/run.sh                                 # real time: 60 s spread, 30 s autosave, 4 saves
#   SPREAD=6s AUTOSAVE=3s bench/exam/run.sh 500 2000  # compressed time
set -euo pipefail
cd "$(dirname "$0")/../.."
want=65536
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then
  want=$hard
fi
ulimit -n "$want"
bin=$(mktemp -d)/exam-bench
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./bench/exam
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(500 2000 5000)
for n in "${sizes[@]}"; do
  if [ $((2 * n + 200)) -gt "$want" ]; then
    echo "skipping $n learners: the open-file limit is $want" >&2
    continue
  fi
  "$bin" -n "$n" -spread "${SPREAD:-60s}" -autosave "${AUTOSAVE:-30s}" -saves "${SAVES:-4}"
  echo
done
