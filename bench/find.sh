#!/usr/bin/env bash
# Benchmark: naming one incident among many. `incident timeline ID` (find
# the folder, read and replay one incident, print) on a repository of N
# incidents (default 10,000) against the same on 10 incidents, alternating
# runs so machine noise hits both alike. With the month listing cache
# (.git/incident/folders-v1) the lookup no longer lists every folder; the
# ratio shows what still grows with the number of incidents.
#
#   bash bench/find.sh [N] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
incidents=${1:-10000}
runs=${2:-41}

cargo build --release -q
bin=$PWD/target/release/incident
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 TZ=UTC

for n in 10 "$incidents"; do
  python3 bench/gen_repo.py "$work/r$n" --incidents "$n" --commits $((3 * n + 1)) >/dev/null
  git -C "$work/r$n" checkout -q -f main
done

python3 - "$bin" "$work/r10" "$work/r$incidents" "$runs" <<'PY'
import statistics, subprocess, sys, time
bin, small, large, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def some_id(repo):
    out = subprocess.run(["git", "-C", repo, "ls-tree", "-r", "--name-only", "HEAD", "incidents"],
                         capture_output=True, text=True, check=True).stdout.split("\n")
    return next(p.split("/")[3].split("-")[0] for p in out if p.endswith("incident.toml"))
cases = {small: some_id(small), large: some_id(large)}
times = {small: [], large: []}
for _ in range(runs):
    for repo, incident in cases.items():
        start = time.perf_counter()
        subprocess.run([bin, "-C", repo, "timeline", incident], check=True, stdout=subprocess.DEVNULL)
        times[repo].append(time.perf_counter() - start)
s, l = statistics.median(times[small]), statistics.median(times[large])
print(f"incident timeline ID at 10 incidents      median {s*1000:6.1f} ms")
print(f"incident timeline ID at {sys.argv[3].rsplit('r',1)[1]} incidents  median {l*1000:6.1f} ms")
print(f"ratio: {l/s:.2f}")
PY
