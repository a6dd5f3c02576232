#!/usr/bin/env bash
# First run on a big tree, against the coreutils baseline in the same run (issue: time to ready, first-scan rate,
# `vigil scan` against sha256sum).
#   bench/first-run.sh ready [FILES]   `vigil run` on a generated tree of FILES files (default 250,000, 4 KiB each):
#                                      time to "vigil: ready" and the first scan's rate, then `find | xargs sha256sum`
#   bench/first-run.sh scan [FILES]    `vigil scan --no-summary` over FILES files (default 10,000) against
#                                      `find | xargs sha256sum`, each run three times, cache warm
# Everything lives in a temp folder removed at the end; nothing is read or written outside it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
scenario="${1:?usage: bench/first-run.sh ready|scan [FILES]}"
files="${2:-}"
work="$(mktemp -d /tmp/vigil-first-run.XXXXXX)"
trap 'if [ -n "${vigil_pid:-}" ]; then kill "$vigil_pid" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
"$here/vigil" --help >/dev/null # builds once

make_tree() { # FILES -> $work/tree, 500 files a directory
  local n="$1" d
  mkdir -p "$work/tree"
  for ((d = 0; d * 500 < n; d++)); do
    mkdir -p "$work/tree/d$d"
    local count=$(( n - d * 500 < 500 ? n - d * 500 : 500 ))
    head -c $((count * 4096)) /dev/urandom | split -b 4096 -a 3 - "$work/tree/d$d/f"
  done
}

seconds() { date +%s.%N; }

case "$scenario" in
  ready)
    files="${files:-250000}"
    make_tree "$files"
    sync
    start="$(seconds)"
    find "$work/tree" -type f -print0 | xargs -0 -P2 -n 500 sha256sum >/dev/null
    hash_s="$(echo "$(seconds) - $start" | bc)"
    start="$(seconds)"
    "$here/vigil" run --directory "$work/tree" --data-dir "$work/data" --no-web >"$work/out" 2>&1 &
    vigil_pid=$!
    until grep -q "vigil: ready" "$work/out"; do
      kill -0 "$vigil_pid" 2>/dev/null || { cat "$work/out"; exit 1; }
      sleep 0.2
    done
    ready_s="$(echo "$(seconds) - $start" | bc)"
    rss_kb="$(awk '/VmHWM/ {print $2}' "/proc/$vigil_pid/status")"
    kill -TERM "$vigil_pid"; wait "$vigil_pid" 2>/dev/null || true
    vigil_pid=
    echo "files: $files"
    echo "find | xargs -P2 sha256sum: ${hash_s} s ($(echo "$files / $hash_s" | bc) files/s)"
    echo "vigil run, start to ready: ${ready_s} s ($(echo "$files / $ready_s" | bc) files/s); peak RSS $((rss_kb / 1024)) MiB"
    grep -E "first scan done|WARNING|NOT covered|covered:" "$work/out" || true
    ;;
  scan)
    files="${files:-10000}"
    make_tree "$files"
    for run in 1 2 3; do
      start="$(seconds)"
      find "$work/tree" -type f -print0 | xargs -0 sha256sum >/dev/null
      hash_s="$(echo "$(seconds) - $start" | bc)"
      start="$(seconds)"
      "$here/vigil" scan --no-summary --data-dir "$work/data" "$work/tree" >/dev/null
      scan_s="$(echo "$(seconds) - $start" | bc)"
      echo "run $run: files $files; sha256sum ${hash_s} s; vigil scan ${scan_s} s; ratio (sha256sum/vigil) $(echo "scale=2; $hash_s / $scan_s" | bc)"
    done
    ;;
  *) echo "unknown scenario $scenario (ready or scan)" >&2; exit 2 ;;
esac
