#!/usr/bin/env bash
# Benchmark: `incident update ID -m note` against `git add FILE && git commit -q -m note`
# on the same repository holding N incidents (default 1000), alternating the
# two so machine noise hits both alike. Prints the median of each and the ratio.
#
#   bash bench/update.sh [N] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
incidents=${1:-1000}
runs=${2:-41}

cargo build --release -q
bin=$PWD/target/release/incident
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repo=$work/repo

export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 TZ=UTC
export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.com

"$bin" init "$repo" >/dev/null
echo "declaring $incidents incidents..." >&2
for i in $(seq "$incidents"); do
  "$bin" -C "$repo" declare "Bench incident $i" --severity SEV3 --service "svc$((i % 20))" --no-input >/dev/null 2>&1
done
id=$("$bin" -C "$repo" --format json list | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
mkdir -p "$repo/notes"

python3 - "$bin" "$repo" "$id" "$runs" <<'PY'
import statistics, subprocess, sys, time
bin, repo, incident, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def timed(cmd, shell=False):
    start = time.perf_counter()
    subprocess.run(cmd, cwd=repo, check=True, shell=shell, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start
tool, git = [], []
for n in range(runs):
    tool.append(timed([bin, "update", incident, "-m", f"note {n}"]))
    with open(f"{repo}/notes/n{n}.txt", "w") as f:
        f.write(f"note {n}\n")
    git.append(timed(f"git add notes/n{n}.txt && git commit -q -m 'note {n}'", shell=True))
files = int(subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True).stdout.count("\n"))
mt, mg = statistics.median(tool), statistics.median(git)
print(f"repository: {files} tracked files, {runs} runs each")
print(f"incident update ID -m note          median {mt*1000:7.1f} ms")
print(f"git add FILE && git commit -q -m .. median {mg*1000:7.1f} ms")
print(f"ratio incident/git: {mt/mg:.2f}")
PY
