#!/usr/bin/env bash
# Benchmark: `incident sync` against `git pull --no-rebase --no-edit && git push`
# against a local bare remote, on a repository with some history (N incident
# commits, default 500, and 2,000 commits of other files). Each round, a
# writer clone records and pushes an update; then each measured clone records
# one update and integrates it: a fetch, a merge commit and a push, the
# everyday case of two responders. Rounds alternate the tools so machine noise
# hits all alike. Prints the median of each.
#
#   bash bench/sync.sh [N] [RUNS]
#   BASELINE_BIN=/path/to/other/incident bash bench/sync.sh   # compare two builds
set -euo pipefail
cd "$(dirname "$0")/.."
commits=${1:-500}
runs=${2:-21}

cargo build --release -q
bin=$PWD/target/release/incident
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 TZ=UTC HOME=$work
export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.com

git init -q --bare -b main "$work/remote.git"
"$bin" init "$work/seed" >/dev/null
git -C "$work/seed" remote add origin "$work/remote.git"
echo "making $commits incident commits and 2000 other commits..." >&2
# Other files' history, quickly, through fast-import.
python3 - "$work/seed" <<'PY' | git -C "$work/seed" fast-import --quiet
import sys
print("reset refs/heads/main\nfrom refs/heads/main^0")
for n in range(2000):
    data = f"line {n}\n"
    print(f"commit refs/heads/main\ncommitter Bench <bench@example.com> {1700000000 + n} +0000")
    print(f"data {len(f'change {n}')}\nchange {n}")
    print(f"M 644 inline src/file{n % 200}.txt\ndata {len(data)}\n{data}")
PY
git -C "$work/seed" reset -q --hard main
for i in $(seq $((commits / 5))); do
  id=$("$bin" -C "$work/seed" --format json declare "Bench incident $i" --severity SEV3 --no-input | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  for j in 1 2 3 4; do "$bin" -C "$work/seed" update "$id" -m "note $j" >/dev/null; done
done
git -C "$work/seed" push -q -u origin main
for clone in writer tool baseline git; do git clone -q "$work/remote.git" "$work/$clone"; done

python3 - "$bin" "${BASELINE_BIN:-}" "$work" "$id" "$runs" <<'PY'
import statistics, subprocess, sys, time
bin, baseline, work, incident, runs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
def run(cmd, cwd, shell=False):
    subprocess.run(cmd, cwd=cwd, check=True, shell=shell, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
def timed(cmd, cwd, shell=False):
    start = time.perf_counter()
    run(cmd, cwd, shell)
    return time.perf_counter() - start
contenders = [("incident sync", f"{work}/tool", [bin, "sync"], bin)]
if baseline:
    contenders.append(("incident sync (baseline build)", f"{work}/baseline", [baseline, "sync"], baseline))
contenders.append(("git pull --no-rebase && git push", f"{work}/git",
                   "git pull -q --no-rebase --no-edit && git push -q", bin))
times = {name: [] for name, *_ in contenders}
n = 0
for _ in range(runs):
    for name, clone, command, recorder in contenders:
        n += 1
        run([bin, "update", incident, "-m", f"writer {n}"], f"{work}/writer")
        run([bin, "sync"], f"{work}/writer")
        run([recorder, "update", incident, "-m", f"{name} {n}"], clone)
        times[name].append(timed(command, clone, shell=isinstance(command, str)))
count = subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=f"{work}/writer", capture_output=True, text=True).stdout.strip()
print(f"history: {count} commits; {runs} runs each (fetch 1+ commits, merge, push)")
for name, values in times.items():
    print(f"{name:34} median {statistics.median(values)*1000:7.1f} ms")
PY
