#!/usr/bin/env bash
# Runs a command and prints its resident memory every INTERVAL seconds (default 5) as
# "seconds rss_MiB" lines on stderr, then the command's exit status. Linux only (reads /proc).
# Usage: INTERVAL=5 scripts/rss_curve.sh tiger-explorer quantize ...
set -u
interval="${INTERVAL:-5}"
"$@" > /dev/null &
pid=$!
start=$(date +%s)
while kill -0 "$pid" 2>/dev/null; do
  rss=$(awk '/^VmRSS:/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status" 2>/dev/null)
  [ -n "$rss" ] && echo "$(( $(date +%s) - start )) $rss" >&2
  sleep "$interval"
done
wait "$pid"
status=$?
echo "exit $status" >&2
exit "$status"
