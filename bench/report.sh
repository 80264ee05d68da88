#!/usr/bin/env bash
# Benchmark `incident report --format json`, cold (no cache) and warm, against
# `git log --first-parent --format='%H %ct' --name-only -- incidents/` on the
# same repository in the same run, with peak memory from /usr/bin/time -v.
#
# Usage: bench/report.sh [REPO_DIR] [INCIDENTS] [COMMITS]
#   REPO_DIR defaults to target/bench-repo; it is generated with
#   bench/gen_repo.py when missing (10,000 incidents, 100,000 commits).
# Not a test: run it by hand, on a quiet machine, and read the figures.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
repo="${1:-$here/target/bench-repo}"
incidents="${2:-10000}"
commits="${3:-100000}"
bin="$here/target/release/incident"

export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 TZ=UTC
export INCIDENT_NOW="2026-11-24T10:00:00Z" CI=true

if [ ! -d "$repo" ]; then
  echo "generating $repo: $incidents incidents, $commits commits" >&2
  python3 "$here/bench/gen_repo.py" "$repo" --incidents "$incidents" --commits "$commits"
  git -C "$repo" gc -q
fi
(cd "$here" && cargo build --release --quiet)

# Seconds and peak resident memory (MB) of one command.
measure() {
  local out
  out="$( { /usr/bin/time -v "$@" > /dev/null; } 2>&1 )"
  local wall rss
  wall="$(printf '%s\n' "$out" | awk -F': ' '/Elapsed \(wall clock\)/ {print $2}')"
  rss="$(printf '%s\n' "$out" | awk -F': ' '/Maximum resident set size/ {print $2}')"
  # m:ss.ss → seconds
  local secs
  secs="$(printf '%s\n' "$wall" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')"
  printf '%s %s\n' "$secs" "$((rss / 1024))"
}

echo "repository: $repo ($(git -C "$repo" rev-list --count HEAD) commits, $(du -sh "$repo/.git" | cut -f1))"
# Warm the page cache for everyone alike.
git -C "$repo" log --first-parent --format='%H %ct' --name-only -- incidents/ > /dev/null

# Three rounds, interleaved, so that load from other processes hits all
# three commands alike; the median of each is reported.
git_runs=() cold_runs=() warm_runs=() cold_mem=0 warm_mem=0 git_mem=0
for round in 1 2 3; do
  read -r s mb < <(measure git -C "$repo" log --first-parent --format='%H %ct' --name-only -- incidents/)
  git_runs+=("$s"); git_mem=$((mb > git_mem ? mb : git_mem))
  rm -rf "$repo/.git/incident"
  read -r s mb < <(measure "$bin" -C "$repo" --format json report)
  cold_runs+=("$s"); cold_mem=$((mb > cold_mem ? mb : cold_mem))
  read -r s mb < <(measure "$bin" -C "$repo" --format json report)
  warm_runs+=("$s"); warm_mem=$((mb > warm_mem ? mb : warm_mem))
  echo "round $round: git log ${git_runs[-1]} s, cold ${cold_runs[-1]} s, warm ${warm_runs[-1]} s" >&2
done
median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
git_s="$(median "${git_runs[@]}")" cold_s="$(median "${cold_runs[@]}")" warm_s="$(median "${warm_runs[@]}")"
git_mb=$git_mem cold_mb=$cold_mem warm_mb=$warm_mem

awk -v g="$git_s" -v c="$cold_s" -v w="$warm_s" -v cm="$cold_mb" -v wm="$warm_mb" -v gm="$git_mb" 'BEGIN {
  printf "median of 3 (load average now: %s)\n", "'"$(cut -d' ' -f1-3 /proc/loadavg)"'"
  printf "git log --first-parent --name-only -- incidents/: %.2f s (peak %d MB)\n", g, gm
  printf "incident report --format json, cold:             %.2f s (peak %d MB), %.2fx git log\n", c, cm, c / g
  printf "incident report --format json, warm:             %.2f s (peak %d MB), %.3fx git log\n", w, wm, w / g
  printf "goals: cold <= 1x git log, warm < 0.1x git log, peak < 150 MB\n"
}'
