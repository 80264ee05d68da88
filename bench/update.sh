#!/usr/bin/env bash
# Benchmark: the write path on a repository shaped like an ops repository:
# tens of thousands of code files in the index beside the incidents.
#
#   bash bench/update.sh [RUNS] [INDEX_ENTRIES] [INCIDENT_COUNTS...]
#
# For each incident count (default 1000 and 10000) a repository is generated
# whose index holds INDEX_ENTRIES entries (default 57000: code files fill up
# what the incidents leave), committed with git. Then, alternating so that
# machine noise hits all alike, RUNS times each (default 21):
#   incident update ID -m note
#   incident declare TITLE -s SEV4
#   echo ... > notes/nN.txt && git add notes/nN.txt && git commit -q -m ..   (git's cost)
# It prints the medians, of wall-clock time and of CPU time (user + system,
# which a busy machine disturbs less), each incident command as a ratio
# against git in the same run, and how much each grows from the first
# incident count to the last.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-21}
entries=${2:-57000}
shift $(( $# > 2 ? 2 : $# ))
counts=("$@")
((${#counts[@]})) || counts=(1000 10000)

# INCIDENT_BIN=PATH measures another build (an older one, say) instead.
if [[ -n ${INCIDENT_BIN:-} ]]; then
  bin=$INCIDENT_BIN
else
  cargo build --release -q
  bin=$PWD/target/release/incident
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# BENCH_KEEP=DIR keeps the generated repositories there (for profiling).
keep=${BENCH_KEEP:-}

export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 TZ=UTC
export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.com
unset INCIDENT_NOW

results=$work/results.txt
for count in "${counts[@]}"; do
  repo=$work/repo-$count
  echo "generating $count incidents in an index of $entries entries..." >&2
  python3 - "$repo" "$count" "$entries" "$PWD/templates/config.toml" <<'PY'
import os, random, subprocess, sys
repo, count, entries, template = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
rng = random.Random(count)
subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True)
config = open(template, encoding="utf-8").read().replace('timezone = "local"', 'timezone = "UTC"')
os.makedirs(f"{repo}/incidents", exist_ok=True)
open(f"{repo}/incidents/config.toml", "w").write(config)
files = 1
seen = set()
for n in range(count):
    while True:
        iid = "".join(rng.choice(alphabet) for _ in range(6))
        if iid not in seen:
            seen.add(iid)
            break
    year, month = 2024 + n * 24 // count // 12, 1 + (n * 24 // count) % 12
    at = f"{year}-{month:02d}-{1 + n % 28:02d}T{n % 24:02d}:00:00Z"
    folder = f"{repo}/incidents/{year}/{month:02d}/{iid}-bench-incident-{n}"
    os.makedirs(f"{folder}/events")
    open(f"{folder}/incident.toml", "w").write(
        f'version = 1\nid = "{iid}"\ntitle = "Bench incident {n}"\nseverity = "SEV3"\n'
        f'status = "triage"\nservices = ["svc{n % 20}"]\ndeclared_at = {at}\n'
        f'recorded_at = {at}\nauthor = "Bench"\nauthor_email = "bench@example.com"\n')
    stamp = at.replace("-", "").replace(":", "")
    open(f"{folder}/events/{stamp}-{iid[:4]}aa-status.toml", "w").write(
        f'version = 1\nat = {at}\nrecorded_at = {at}\nseq = 1\nauthor = "Bench"\n'
        f'author_email = "bench@example.com"\nkind = "status"\nstatus = "investigating"\nfrom = "triage"\n')
    files += 2
code = max(entries - files, 0)
for n in range(code):
    d = f"{repo}/src/mod{n // 400:03d}/sub{n // 40 % 10}"
    os.makedirs(d, exist_ok=True)
    open(f"{d}/file{n}.py", "w").write(f"# code file {n}\nVALUE = {n}\n")
os.makedirs(f"{repo}/notes")
subprocess.run(["git", "-C", repo, "add", "-A"], check=True)
subprocess.run(["git", "-C", repo, "commit", "-q", "-m", "ops repository"], check=True)
PY
  id=$("$bin" -C "$repo" --format json list | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
  python3 - "$bin" "$repo" "$id" "$runs" "$count" >>"$results" <<'PY'
import resource, statistics, subprocess, sys, time
bin, repo, incident, runs, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
def timed(cmd, shell=False):
    # Wall time, and CPU time (user + system of every process it started),
    # which a busy machine disturbs less.
    start, start_cpu = time.perf_counter(), children_cpu()
    subprocess.run(cmd, cwd=repo, check=True, shell=shell, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    timed.cpu = children_cpu() - start_cpu
    return time.perf_counter() - start
# One of each first: warm the page cache and any lazily built state.
timed([bin, "update", incident, "-m", "warm-up"])
timed("echo warm > notes/warm.txt && git add notes/warm.txt && git commit -q -m warm", shell=True)
update, declare, git = [], [], []
cpu_update, cpu_declare, cpu_git = [], [], []
for n in range(runs):
    update.append(timed([bin, "update", incident, "-m", f"note {n}"]))
    cpu_update.append(timed.cpu)
    with open(f"{repo}/notes/n{n}.txt", "w") as f:
        f.write(f"note {n}\n")
    git.append(timed(f"git add notes/n{n}.txt && git commit -q -m 'note {n}'", shell=True))
    cpu_git.append(timed.cpu)
    declare.append(timed([bin, "declare", f"Bench declare {n}", "-s", "SEV4", "--no-input"]))
    cpu_declare.append(timed.cpu)
entries = subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True).stdout.count("\n")
medians = (statistics.median(x) * 1000 for x in (update, declare, git, cpu_update, cpu_declare, cpu_git))
print(count, entries, *(f"{m:.1f}" for m in medians))
PY
  if [[ -n $keep ]]; then mkdir -p "$keep" && rm -rf "${keep:?}/repo-$count" && mv "$repo" "$keep/"; else rm -rf "$repo"; fi
done

python3 - "$results" "$runs" <<'PY'
import sys
rows = [line.split() for line in open(sys.argv[1])]
print(f"medians of {sys.argv[2]} alternating runs each, ms (ratio against git add + git commit in the same run)")
for label, offset in (("wall-clock", 2), ("CPU (user + system)", 5)):
    print(f"{label}:")
    print(f"  {'incidents':>9} {'index':>7} {'update':>15} {'declare':>15} {'git add+commit':>15}")
    for row in rows:
        count, entries = row[0], row[1]
        u, d, g = (float(x) for x in row[offset:offset + 3])
        print(f"  {count:>9} {entries:>7} {u:7.1f} ({u/g:.2f}x) {d:7.1f} ({d/g:.2f}x) {g:15.1f}")
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        grow = [float(last[offset + k]) / float(first[offset + k]) for k in range(3)]
        print(f"  growth {first[0]} -> {last[0]} incidents: update {grow[0]:.2f}x, "
              f"declare {grow[1]:.2f}x, git {grow[2]:.2f}x")
PY
