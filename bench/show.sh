#!/usr/bin/env bash
# Benchmark `incident show` of incidents whose postmortem was published long
# ago (issue 13): finding when it was published must not walk history.
#
# Usage: bench/show.sh [REPO_DIR] [OTHER_BINARY]
#   REPO_DIR defaults to target/bench-repo-pm, generated when missing with
#   bench/gen_repo.py --published 600 (10,000 incidents, 100,000 commits,
#   600 reviewed postmortems, every other one closed).
#   OTHER_BINARY, when given, is timed the same way (an older build, say).
# Prints the median of 7 runs, in milliseconds, of:
#   - show of an incident without a postmortem (the baseline: no publication);
#   - show of the oldest published postmortem that is not closed: cold (the
#     publication cache .git/incident/publications-v1 removed before each
#     run) and warm;
#   - show of the oldest published postmortem whose incident is closed (the
#     milestone close recorded answers).
# Not a test: run it by hand, on a quiet machine, and read the figures.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
repo="$(realpath -m "${1:-$here/target/bench-repo-pm}")"
other="${2:-}"
bin="$here/target/release/incident"

export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 TZ=UTC
export INCIDENT_NOW="2026-11-24T10:00:00Z" CI=true

if [ ! -d "$repo" ]; then
  echo "generating $repo" >&2
  python3 "$here/bench/gen_repo.py" "$repo" --published 600
  git -C "$repo" gc -q
fi
(cd "$here" && cargo build --release --quiet)

list="$repo/.git/bench-published.txt"
open_id="$(awk '$2 == "open" {print $1; exit}' "$list")"
closed_id="$(awk '$2 == "closed" {print $1; exit}' "$list")"
# An incident with no postmortem: the first declared that is not in the list.
plain_id="$(git -C "$repo" log --reverse --format=%s --grep '^Declare' main \
  | awk 'NR == FNR { skip[$1] = 1; next } { id = $4; sub(":", "", id) } !(id in skip) { print id; exit }' "$list" - || true)"
cache="$repo/.git/incident/publications-v1"
echo "repository: $repo ($(git -C "$repo" rev-list --count main) commits)"
echo "incidents: no postmortem $plain_id; published, open $open_id (commit $(awk -v i="$open_id" '$1 == i {print $3}' "$list")); published, closed $closed_id"

# Median wall time in ms of 7 runs of "$@"; PREP (a shell command) before each.
median() {
  local prep="$1"; shift
  python3 - "$prep" "$@" <<'PY'
import statistics, subprocess, sys, time
prep, cmd = sys.argv[1], sys.argv[2:]
runs = []
for _ in range(7):
    if prep:
        subprocess.run(prep, shell=True, check=True)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    runs.append((time.perf_counter() - start) * 1000)
print("%.1f" % statistics.median(runs))
PY
}

for b in "$bin" $other; do
  echo "binary: $b"
  base="$(median "" "$b" -C "$repo" show "$plain_id")"
  cold="$(median "rm -f '$cache'" "$b" -C "$repo" show "$open_id")"
  "$b" -C "$repo" show "$open_id" > /dev/null
  warm="$(median "" "$b" -C "$repo" show "$open_id")"
  closed="$(median "" "$b" -C "$repo" show "$closed_id")"
  printf '  %-44s %8s ms\n' "show, no postmortem (baseline)" "$base"
  printf '  %-44s %8s ms  (%s x baseline)\n' "show, published long ago, cold cache" "$cold" \
    "$(python3 -c "print(round($cold / $base, 2))")"
  printf '  %-44s %8s ms  (%s x baseline)\n' "show, published long ago, warm cache" "$warm" \
    "$(python3 -c "print(round($warm / $base, 2))")"
  printf '  %-44s %8s ms  (%s x baseline)\n' "show, published long ago, closed" "$closed" \
    "$(python3 -c "print(round($closed / $base, 2))")"
done
