#!/usr/bin/env python3
"""Generate a benchmark repository for `incident report` with git fast-import.

Usage: bench/gen_repo.py DIR [--incidents 10000] [--commits 100000] [--seed 1]
                           [--published N]

The repository has the layout `incident` writes (incidents/<yyyy>/<mm>/<id>-<slug>/
incident.toml and events/*.toml), three commits per incident (declare,
investigating, resolved), interleaved with unrelated code commits that fill
the rest of the first-parent history, like an ops repository. One commit every
ten minutes, so the history spans about two years. Deterministic for a seed.

--published N (default 0: the repository is exactly as without it) gives N
incidents a reviewed postmortem: some commits after their resolution, one
commit (as a squash merge of the review branch makes) brings postmortem.md
and the review's status event; every other one is then closed, with the
postmortem_published milestone that `incident close` records. The list is
written to DIR/.git/bench-published.txt: id, open|closed, commit number.
"""

import heapq

import argparse
import os
import random
import subprocess
import sys
from datetime import datetime, timedelta, timezone

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def rfc3339(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--incidents", type=int, default=10000)
    ap.add_argument("--commits", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--published", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    ops_total = 3 * args.incidents
    if args.commits < ops_total + 1:
        sys.exit("need at least 3 commits per incident plus one")

    os.makedirs(args.dir, exist_ok=False)
    subprocess.run(["git", "init", "-q", "-b", "main", args.dir], check=True)
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "templates", "config.toml"), encoding="utf-8") as f:
        config = f.read().replace('timezone = "local"', 'timezone = "UTC"')

    start = datetime(2024, 11, 25, tzinfo=timezone.utc)
    step = timedelta(minutes=10)
    # Which commit slots (after the first, which writes the config) record incident files.
    slots = sorted(rng.sample(range(1, args.commits), ops_total))

    # Each incident: declare, then investigating a few slots later, then
    # resolved later still; ops are assigned to incident slots in order of
    # their nominal position, so incidents overlap as in real life.
    ops = []
    for k in range(args.incidents):
        base = k * 3
        ops.append((base, 0, k))
        ops.append((base + 1 + rng.randint(0, 6), 1, k))
        ops.append((base + 2 + rng.randint(5, 40), 2, k))
    ops.sort()
    ids = set()
    incidents = []
    for k in range(args.incidents):
        while True:
            i = "".join(rng.choice(ALPHABET) for _ in range(6))
            if i not in ids:
                ids.add(i)
                break
        incidents.append({"id": i, "sev": "SEV%d" % rng.randint(1, 4), "svc": "svc%d" % rng.randint(1, 20)})

    # Publications draw from their own generator, so the rest is unchanged.
    prng = random.Random(args.seed + 7919)
    publish = set(prng.sample(range(args.incidents), min(args.published, args.incidents)))
    pending = []  # (earliest commit number, incident number)
    published = []

    git = subprocess.Popen(["git", "-C", args.dir, "fast-import", "--quiet"], stdin=subprocess.PIPE)
    out = git.stdin
    ops_iter = iter(ops)
    slot_set = set(slots)

    def data(text):
        b = text.encode("utf-8")
        out.write(b"data %d\n" % len(b))
        out.write(b)
        out.write(b"\n")

    for n in range(args.commits):
        t = start + step * n
        out.write(b"commit refs/heads/main\n")
        out.write(b"mark :%d\n" % (n + 1))
        out.write(b"committer Bench <bench@example.com> %d +0000\n" % int(t.timestamp()))
        if n == 0:
            data("Initialize incident repository\n")
            out.write(b"M 100644 inline incidents/config.toml\n")
            data(config)
            continue
        if n not in slot_set and pending and pending[0][0] <= n:
            rng.randint(0, 1999)
            _, k = heapq.heappop(pending)
            inc = incidents[k]
            closed = len(published) % 2 == 1
            published.append("%s %s %d" % (inc["id"], "closed" if closed else "open", n))
            stamp = t.strftime("%Y%m%dT%H%M%SZ")
            data("Merge postmortem for incident %s (#%d)\n\nIncident: %s\nIncident-Event: postmortem\n" % (inc["id"], k, inc["id"]))
            out.write(b"from :%d\n" % n)
            out.write(("M 100644 inline %s/postmortem.md\n" % inc["folder"]).encode())
            data(
                "<!-- incident postmortem: incident=%s template=sre -->\n# Postmortem: incident %d\n\n"
                "## Summary\n\nA queue backed up after deploy %d.\n\n## Root Causes\n\nThe pool was too small.\n"
                % (inc["id"], k, k)
            )
            events = [("postmortem", 'status = "postmortem"\nfrom = "resolved"\n')]
            if closed:
                events.append(("milestone", 'milestone = "postmortem_published"\ntime = %s\n' % rfc3339(t)))
                events.append(("closed", 'status = "closed"\nfrom = "postmortem"\n'))
            for seq, (what, fields) in enumerate(events, start=2):
                suffix = "".join(prng.choice(ALPHABET) for _ in range(6))
                kind = "milestone" if what == "milestone" else "status"
                out.write(("M 100644 inline %s/events/%s-%s-%s.toml\n" % (inc["folder"], stamp, suffix, kind)).encode())
                data(
                    'version = 1\nkind = "%s"\nat = %s\nrecorded_at = %s\nseq = %d\nauthor = "Bench"\n'
                    'author_email = "bench@example.com"\n%s' % (kind, rfc3339(t), rfc3339(t), seq, fields)
                )
            continue
        if n not in slot_set:
            f = rng.randint(0, 1999)
            data("code change %d\n" % n)
            out.write(b"from :%d\n" % n)
            out.write(b"M 100644 inline src/mod%02d/file%04d.rs\n" % (f // 100, f))
            data("// revision %d\npub fn f%d() -> u32 { %d }\n" % (n, f, n))
            continue
        _, kind, k = next(ops_iter)
        inc = incidents[k]
        if kind == 0:
            inc["declared"] = t
            folder = "incidents/%04d/%02d/%s-incident-%d" % (t.year, t.month, inc["id"], k)
            inc["folder"] = folder
            started = t - timedelta(minutes=rng.randint(1, 90))
            detected = started + (t - started) / 2
            data("Declare %s incident %s: incident %d\n\nIncident: %s\nIncident-Event: declared\n" % (inc["sev"], inc["id"], k, inc["id"]))
            out.write(b"from :%d\n" % n)
            out.write(("M 100644 inline %s/incident.toml\n" % folder).encode())
            data(
                'version = 1\nid = "%s"\ntitle = "incident %d"\nseverity = "%s"\nstatus = "triage"\n'
                'services = ["%s"]\ndeclared_at = %s\nstarted_at = %s\ndetected_at = %s\nrecorded_at = %s\n'
                'author = "Bench"\nauthor_email = "bench@example.com"\n'
                % (inc["id"], k, inc["sev"], inc["svc"], rfc3339(t), rfc3339(started), rfc3339(detected), rfc3339(t))
            )
        else:
            status = "investigating" if kind == 1 else "resolved"
            # Stated time: a little before the commit; one in twenty written down hours later.
            lag = timedelta(minutes=rng.randint(0, 5))
            if rng.randint(0, 19) == 0:
                lag = timedelta(hours=rng.randint(2, 30))
            at = max(t - lag, inc["declared"])
            suffix = "".join(rng.choice(ALPHABET) for _ in range(6))
            name = "%s-%s-status" % (t.strftime("%Y%m%dT%H%M%SZ"), suffix)
            data("Update incident %s: %s\n\nIncident: %s\nIncident-Event: %s\n" % (inc["id"], status, inc["id"], status))
            out.write(b"from :%d\n" % n)
            out.write(("M 100644 inline %s/events/%s.toml\n" % (inc["folder"], name)).encode())
            data(
                'version = 1\nkind = "status"\nat = %s\nrecorded_at = %s\nseq = %d\nauthor = "Bench"\n'
                'author_email = "bench@example.com"\nstatus = "%s"\n'
                % (rfc3339(at), rfc3339(t), kind - 1, status)
            )
            # Publish only where the stated times replay in order (a resolution
            # written down hours later may state a time before the investigation).
            if kind == 1:
                inc["investigating_at"] = at
            elif k in publish and at >= inc.get("investigating_at", at):
                heapq.heappush(pending, (n + prng.randint(20, 300), k))
    out.write(b"done\n")
    out.close()
    if git.wait() != 0:
        sys.exit("git fast-import failed")
    if args.published:
        with open(os.path.join(args.dir, ".git", "bench-published.txt"), "w", encoding="utf-8") as f:
            f.write("".join(line + "\n" for line in published))
    # fast-import leaves no tracking of the tip in the index; give the
    # working tree the incidents config so the tool reads it the usual way.
    subprocess.run(["git", "-C", args.dir, "read-tree", "main"], check=True)
    subprocess.run(["git", "-C", args.dir, "checkout-index", "-f", "incidents/config.toml"], check=True)


if __name__ == "__main__":
    main()
