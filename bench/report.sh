#!/usr/bin/env bash
# Benchmark `incident report --format json` at several sizes: cold (no
# cache), warm, and warm over a long period (`--since 1990-01-01`, whose
# extra 35 years hold no data), each against
# `git log --first-parent --format='%H %ct' --name-only -- incidents/` on the
# same repository in the same run, with peak memory from /usr/bin/time -v.
#
# Usage: bench/report.sh [SIZES]
#   SIZES: comma-separated incident counts, default 1000,10000,30000. Each
#   repository (ten commits per incident) is generated once with
#   bench/gen_repo.py into target/bench-repo-<size> (the 10,000 one is
#   bench/gen_repo.py's default shape: 10,000 incidents, 100,000 commits).
# Environment:
#   ROUNDS=3          rounds per size, interleaved; medians are reported
#   BIN=path          the binary to measure (default target/release/incident)
#   BEFORE_BIN=path   also compare the JSON of this binary with BIN's,
#                     field by field, on every repository and period
# The report time ("now") is one day after the repository's last commit, so
# the default period, the last complete week, holds incidents.
# Not a test: run it by hand, on a quiet machine, and read the figures.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
sizes="${1:-1000,10000,30000}"
rounds="${ROUNDS:-3}"
bin="${BIN:-$here/target/release/incident}"

export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 TZ=UTC CI=true

if [ -z "${BIN:-}" ]; then
  (cd "$here" && cargo build --release --quiet)
fi

# Seconds and peak resident memory (MB) of one command.
measure() {
  local out wall rss secs
  out="$( { /usr/bin/time -v "$@" > /dev/null; } 2>&1 )"
  wall="$(printf '%s\n' "$out" | awk -F': ' '/Elapsed \(wall clock\)/ {print $2}')"
  rss="$(printf '%s\n' "$out" | awk -F': ' '/Maximum resident set size/ {print $2}')"
  secs="$(printf '%s\n' "$wall" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')"
  printf '%s %s\n' "$secs" "$((rss / 1024))"
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
max() { printf '%s\n' "$@" | sort -g | tail -1; }

# Which fields of two report JSON files differ: figures named without the
# set of metrics they are in (metrics, previous_metrics, by.*.* become *),
# + added, - removed, ~ changed (with the changed sub-fields).
compare_json() {
  python3 - "$1" "$2" <<'EOF'
import json, re, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
changes = {}
def note(kind, path):
    path = re.sub(r"^(metrics|previous_metrics|by\.[^.]+\.[^.]+)\.", "*.", path)
    parts = path.split(".")
    # A figure: up to the fields of its summary (n, median_seconds, ...).
    size = 3 if parts[0] == "*" and len(parts) > 2 and parts[1] == "time_in_state" else 2
    head = ".".join(parts[:size])
    rest = ".".join(parts[size:])
    entry = changes.setdefault((kind, head), set())
    if rest:
        entry.add(rest)
def walk(x, y, path):
    if isinstance(x, dict) and isinstance(y, dict):
        for k in sorted(set(x) | set(y)):
            p = f"{path}.{k}" if path else k
            if k not in x:
                note("+", p)
            elif k not in y:
                note("-", p)
            else:
                walk(x[k], y[k], p)
    elif x != y:
        note("~", path)
walk(a, b, "")
if not changes:
    print("    identical")
for (kind, head), rest in sorted(changes.items()):
    detail = f" ({', '.join(sorted(rest))})" if rest else ""
    print(f"    {kind}{head}{detail}")
EOF
}

printf '%-8s %9s %8s %8s %8s %8s %8s %8s %8s\n' \
  incidents commits "git log" cold "cold/git" warm "warm/git" "1990" "peak MB"
summary=()
for size in ${sizes//,/ }; do
  repo="$here/target/bench-repo-$size"
  if [ "$size" = 10000 ] && [ -d "$here/target/bench-repo" ] && [ ! -d "$repo" ]; then
    repo="$here/target/bench-repo"
  fi
  if [ ! -d "$repo" ]; then
    echo "generating $repo: $size incidents, $((size * 10)) commits" >&2
    python3 "$here/bench/gen_repo.py" "$repo" --incidents "$size" --commits "$((size * 10))"
    git -C "$repo" gc -q
  fi
  tip="$(git -C "$repo" log -1 --format=%ct)"
  INCIDENT_NOW="$(date -u -d "@$((tip + 86400))" +%Y-%m-%dT%H:%M:%SZ)"
  export INCIDENT_NOW
  commits="$(git -C "$repo" rev-list --count HEAD)"
  # Warm the page cache for everyone alike.
  git -C "$repo" log --first-parent --format='%H %ct' --name-only -- incidents/ > /dev/null
  git_runs=() cold_runs=() warm_runs=() long_runs=() mems=() git_mems=()
  for round in $(seq "$rounds"); do
    read -r s mb < <(measure git -C "$repo" log --first-parent --format='%H %ct' --name-only -- incidents/)
    git_runs+=("$s"); git_mems+=("$mb")
    rm -rf "$repo/.git/incident"
    read -r s mb < <(measure "$bin" -C "$repo" --format json report)
    cold_runs+=("$s"); mems+=("$mb")
    read -r s mb < <(measure "$bin" -C "$repo" --format json report)
    warm_runs+=("$s"); mems+=("$mb")
    read -r s mb < <(measure "$bin" -C "$repo" --format json report --since 1990-01-01)
    long_runs+=("$s"); mems+=("$mb")
    echo "$size round $round: git log ${git_runs[-1]} s, cold ${cold_runs[-1]} s, warm ${warm_runs[-1]} s, --since 1990 ${long_runs[-1]} s" >&2
  done
  g="$(median "${git_runs[@]}")" c="$(median "${cold_runs[@]}")"
  w="$(median "${warm_runs[@]}")" l="$(median "${long_runs[@]}")" m="$(max "${mems[@]}")"
  awk -v n="$size" -v k="$commits" -v g="$g" -v c="$c" -v w="$w" -v l="$l" -v m="$m" \
    'BEGIN { printf "%-8s %9s %7.2fs %7.2fs %8.2f %7.3fs %8.3f %7.3fs %8d\n", n, k, g, c, c / g, w, w / g, l, m }'
  summary+=("$size: git log peak $(max "${git_mems[@]}") MB")
  if [ -n "${BEFORE_BIN:-}" ]; then
    for args in "" "--last 12w" "--last 4w --by severity" "--since 2025-01-01 --by service"; do
      # shellcheck disable=SC2086
      "$BEFORE_BIN" -C "$repo" --format json report $args > "$repo.before.json"
      # shellcheck disable=SC2086
      "$bin" -C "$repo" --format json report $args > "$repo.after.json"
      echo "  $size [${args:-default}], before → after:" >&2
      compare_json "$repo.before.json" "$repo.after.json" >&2
    done
  fi
done
printf '%s\n' "${summary[@]}"
echo "median of $rounds rounds; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "goals: cold <= 1.0x git log, warm <= 0.05x git log, peak < 150 MB at 30,000 incidents"
