#!/usr/bin/env bash
# Benchmark the read commands of issue 13 on a repository shaped like a busy
# ops repository: `log ID`, `actions`, `list --all` and `check`, each against
# its git or cat baseline, measured in the same run, alternating.
#
# Usage: bench/ops.sh [INCIDENTS] [PAIRS] [REPO_DIR]
#   INCIDENTS (default 10000): the repository is generated with
#   bench/gen_repo.py --ops-shape (10 commits per incident, a 20,000-file
#   code tree, reviewed and direct postmortems, closed incidents, action
#   items) into REPO_DIR (default target/bench-ops-INCIDENTS) and checked
#   out, when missing.
#   INCIDENT_BIN, when set, is the binary measured (an older build, say);
#   default: this checkout, built in release mode.
#   PAIRS (default 9): runs of each command and its baseline, alternating;
#   the figure is the median of each.
# Baselines:
#   log ID          git log --oneline -- <the incident's folder>
#   actions         cat of every action item file (actions/ of every incident)
#   list --all      cat of every file of the incident record (git ls-files incidents)
#   check           the same cat
# `list --all` and `check` are measured warm (their cache filled by one run
# before) and cold (the cache removed before each run). `log ID` is measured
# cold (.git/incident/log-v1 removed before each run: git's whole walk),
# warm (HEAD where the last run left it) and after one more commit on HEAD
# (an empty one, as `update` adds one: git is asked about it alone); the
# empty commits are taken off the branch again at the end.
# Not a test: run it by hand and read the ratios.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
incidents="${1:-10000}"
pairs="${2:-9}"
repo="$(realpath -m "${3:-$here/target/bench-ops-$incidents}")"
bin="${INCIDENT_BIN:-$here/target/release/incident}"

export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 TZ=UTC
export INCIDENT_NOW="2026-11-24T10:00:00Z" CI=true

if [ ! -d "$repo" ]; then
  echo "generating $repo" >&2
  python3 "$here/bench/gen_repo.py" "$repo" --incidents "$incidents" \
    --commits $((incidents * 10)) --ops-shape
  git -C "$repo" checkout -q -f main
  git -C "$repo" gc -q
fi
[ -n "${INCIDENT_BIN:-}" ] || (cd "$here" && cargo build --release --quiet)

cd "$repo"
git ls-files -z incidents > "$repo/.git/bench-record-files"
git ls-files -z 'incidents/*/actions/*' > "$repo/.git/bench-action-files"
# An incident with events, an action item and a postmortem: the busiest folder.
folder="$(tr '\0' '\n' < "$repo/.git/bench-action-files" | awk -F/ 'NR == 1 {print $1"/"$2"/"$3"/"$4}')"
id="$(basename "$folder" | cut -d- -f1)"
cache_glob="$repo/.git/incident/*cache*"
echo "repository: $repo ($(git rev-list --count HEAD) commits, $(git ls-files | wc -l) files)"
echo "incident for log: $id ($folder)"

# PAIRS alternating runs of A and B (each a shell command, output discarded;
# PREP before each run of A); prints "median_a median_b ratio".
pair() {
  python3 - "$pairs" "$@" <<'PY'
import statistics, subprocess, sys, time
pairs, prep, a, b = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ta, tb = [], []
def run(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, shell=True, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.perf_counter() - start) * 1000
for _ in range(pairs):
    if prep:
        subprocess.run(prep, shell=True, check=True)
    ta.append(run(a))
    tb.append(run(b))
ma, mb = statistics.median(ta), statistics.median(tb)
print("%8.1f ms %8.1f ms %6.2f" % (ma, mb, ma / mb))
PY
}

catall='xargs -0 cat < .git/bench-record-files > /dev/null'
printf '%-22s %11s %11s %6s\n' command incident baseline ratio
log_cache="$repo/.git/incident/log-v1"
printf '%-22s %s\n' "log ID (cold)" "$(pair "rm -rf $log_cache" "$bin log $id" "git log --oneline -- $folder")"
"$bin" log "$id" > /dev/null
printf '%-22s %s\n' "log ID (warm)" "$(pair "" "$bin log $id" "git log --oneline -- $folder")"
tip="$(git rev-parse HEAD)"
printf '%-22s %s\n' "log ID (new commit)" "$(pair "GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com git commit -q --allow-empty -m 'bench: one more commit'" "$bin log $id" "git log --oneline -- $folder")"
git reset -q --soft "$tip"
printf '%-22s %s\n' "actions" "$(pair "" "$bin actions" 'xargs -0 cat < .git/bench-action-files > /dev/null')"
"$bin" list --all > /dev/null
printf '%-22s %s\n' "list --all (warm)" "$(pair "" "$bin list --all" "$catall")"
printf '%-22s %s\n' "list --all (cold)" "$(pair "rm -f $cache_glob" "$bin list --all" "$catall")"
"$bin" check > /dev/null 2>&1
printf '%-22s %s\n' "check (warm)" "$(pair "" "$bin check" "$catall")"
printf '%-22s %s\n' "check (cold)" "$(pair "rm -f $cache_glob" "$bin check" "$catall")"
if command -v /usr/bin/time > /dev/null; then
  rm -rf "$log_cache"
  for cmd in "log $id" "actions" "list --all" "check"; do
    kb="$( { /usr/bin/time -f %M "$bin" $cmd > /dev/null; } 2>&1 | tail -1)"
    printf 'peak memory %-12s %6d MB\n' "$cmd" $((kb / 1024))
  done
fi
