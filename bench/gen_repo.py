#!/usr/bin/env python3
"""Generate a benchmark repository for `incident report` with git fast-import.

Usage: bench/gen_repo.py DIR [--incidents 10000] [--commits 100000] [--seed 1]
                           [--published N] [--code-files N] [--closed N]
                           [--direct-postmortems N] [--actions N] [--ops-shape]

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

The options below add the rest of a busy ops repository's shape (issue 13).
Each defaults to off, and without them the repository is byte for byte what
it was before they existed; they draw from a generator of their own, so
adding one does not change what the others write. Their records take the
place of code commits, as publications do.

--code-files N: a code tree of N files (src/modNN/fileNNNN.rs), all written
  by the first commit, that the code commits then change; without it, code
  commits touch 2,000 files and the tree holds those touched so far.
--closed N: N SEV4 incidents (which need no postmortem) closed straight
  from resolved, some commits after their resolution.
--direct-postmortems N: N SEV1-3 incidents get a postmortem.md committed
  straight to the branch, without a review (as hand-written or older ones).
--actions N: N action items (actions/<id>.toml) spread over resolved
  incidents, each added in a commit of its own; about half are later done
  and one in twenty dropped, each change a commit of its own.
--ops-shape: the shape of issue 13, scaled to --incidents: a 20,000-file
  code tree and, per 10,000 incidents, 639 reviewed postmortems, 2,233
  direct ones, 1,516 action items and 1,300 closed incidents (an option
  given explicitly wins).

With any of these, DIR/.git/bench-shape.txt says what was written
(`key value` lines: commits, incidents, events, postmortems, ...).
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
    ap.add_argument("--published", type=int, default=None)
    ap.add_argument("--code-files", type=int, default=None)
    ap.add_argument("--closed", type=int, default=None)
    ap.add_argument("--direct-postmortems", type=int, default=None)
    ap.add_argument("--actions", type=int, default=None)
    ap.add_argument("--ops-shape", action="store_true")
    args = ap.parse_args()
    if args.ops_shape:
        per = args.incidents / 10000
        shape = {"published": 639, "code_files": None, "closed": 1300, "direct_postmortems": 2233, "actions": 1516}
        for key, value in shape.items():
            if getattr(args, key) is None:
                setattr(args, key, 20000 if key == "code_files" else round(value * per))
    args.published = args.published or 0
    extended = any(getattr(args, k) for k in ("code_files", "closed", "direct_postmortems", "actions"))
    code_files = args.code_files or 2000
    args.closed = args.closed or 0
    args.direct_postmortems = args.direct_postmortems or 0
    args.actions = args.actions or 0
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

    # The rest of the ops shape draws from a third generator, for the same reason.
    xrng = random.Random(args.seed + 104729)
    sev4 = [k for k in range(args.incidents) if incidents[k]["sev"] == "SEV4" and k not in publish]
    close = set(xrng.sample(sev4, min(args.closed, len(sev4))))
    sev123 = [k for k in range(args.incidents) if incidents[k]["sev"] != "SEV4" and k not in publish]
    direct = set(xrng.sample(sev123, min(args.direct_postmortems, len(sev123))))
    items = [0] * args.incidents
    for _ in range(args.actions if args.incidents else 0):
        items[xrng.randrange(args.incidents)] += 1
    extras = []  # (earliest commit number, order, what, incident number, detail)
    order = iter(range(1 << 62))
    written = {"closed": 0, "direct_postmortems": 0, "actions": 0, "action_changes": 0}
    names = ["alice", "bob", "carol", "dave", "erin", "frank"]

    git = subprocess.Popen(["git", "-C", args.dir, "fast-import", "--quiet"], stdin=subprocess.PIPE)
    out = git.stdin
    ops_iter = iter(ops)
    slot_set = set(slots)

    def data(text):
        b = text.encode("utf-8")
        out.write(b"data %d\n" % len(b))
        out.write(b)
        out.write(b"\n")

    def extra(n, t, what, inc, k, detail):
        """One commit of the ops shape: a close, a postmortem, an action item or a change to one."""
        stamp = t.strftime("%Y%m%dT%H%M%SZ")
        trailers = "Incident: %s\nIncident-Event: %%s\nIncident-At: %s\n" % (inc["id"], rfc3339(t))
        if what == "close":
            written["closed"] += 1
            suffix = "".join(xrng.choice(ALPHABET) for _ in range(6))
            data("Close incident %s: incident %d\n\nChanges: status resolved \u2192 closed\n\n%s" % (inc["id"], k, trailers % "closed"))
            out.write(b"from :%d\n" % n)
            out.write(("M 100644 inline %s/events/%s-%s-status.toml\n" % (inc["folder"], stamp, suffix)).encode())
            data(
                'version = 1\nkind = "status"\nat = %s\nrecorded_at = %s\nseq = 2\nauthor = "Bench"\n'
                'author_email = "bench@example.com"\nstatus = "closed"\nfrom = "resolved"\n' % (rfc3339(t), rfc3339(t))
            )
        elif what == "postmortem":
            written["direct_postmortems"] += 1
            data("Write postmortem for incident %s: incident %d\n\n%s" % (inc["id"], k, trailers % "postmortem-edited"))
            out.write(b"from :%d\n" % n)
            out.write(("M 100644 inline %s/postmortem.md\n" % inc["folder"]).encode())
            data(
                "<!-- incident postmortem: incident=%s template=sre -->\n# Postmortem: incident %d\n\n"
                "## Summary\n\nA cache stampede after restart %d.\n\n## Root Causes\n\nNo jitter on expiry.\n"
                % (inc["id"], k, k)
            )
        elif what == "action":
            written["actions"] += 1
            taken = inc.setdefault("actions", [])
            while True:
                item = "".join(xrng.choice(ALPHABET) for _ in range(5))
                if item not in taken and not item.isdigit():
                    break
            taken.append(item)
            owner = xrng.choice(names)
            due = (t + timedelta(days=xrng.choice([28, 56]))).strftime("%Y-%m-%d")
            text = "Follow-up %d of incident %d" % (len(taken), k)
            data(
                "Add action item %s/%s: %s\n\nAction: %s\nOwner: %s\nDue: %s\n\n"
                "Incident: %s\nIncident-Event: action-added\nIncident-Action: %s\n"
                % (inc["id"], item, text, text, owner, due, inc["id"], item)
            )
            out.write(b"from :%d\n" % n)
            out.write(("M 100644 inline %s/actions/%s.toml\n" % (inc["folder"], item)).encode())
            data(
                "# Action item written by `incident action add`. Changes are files in the folder of the same name.\n"
                'version = 1\ntext = "%s"\nowner = "%s"\ndue = "%s"\ncreated_at = %s\nseq = %d\n'
                'author = "Bench"\nauthor_email = "bench@example.com"\n' % (text, owner, due, rfc3339(t), len(taken))
            )
            roll = xrng.randint(0, 19)
            if roll < 10:
                change = "dropped" if roll == 0 else "done"
                heapq.heappush(extras, (n + xrng.randint(50, 3000), next(order), "change", k, (item, text, change)))
        else:
            written["action_changes"] += 1
            item, text, change = detail
            suffix = "".join(xrng.choice(ALPHABET) for _ in range(6))
            verb = "Drop" if change == "dropped" else "Complete"
            reason = 'reason = "superseded by a wider fix"\n' if change == "dropped" else ""
            data(
                "%s action item %s/%s: %s\n\nIncident: %s\nIncident-Event: action-%s\nIncident-Action: %s\n"
                % (verb, inc["id"], item, text, inc["id"], change, item)
            )
            out.write(b"from :%d\n" % n)
            out.write(("M 100644 inline %s/actions/%s/%s-%s-%s.toml\n" % (inc["folder"], item, stamp, suffix, change)).encode())
            data(
                'version = 1\nkind = "%s"\nat = %s\nseq = 1\nauthor = "Bench"\nauthor_email = "bench@example.com"\n%s'
                % (change, rfc3339(t), reason)
            )

    for n in range(args.commits):
        t = start + step * n
        out.write(b"commit refs/heads/main\n")
        out.write(b"mark :%d\n" % (n + 1))
        out.write(b"committer Bench <bench@example.com> %d +0000\n" % int(t.timestamp()))
        if n == 0:
            data("Initialize incident repository\n")
            out.write(b"M 100644 inline incidents/config.toml\n")
            data(config)
            if args.code_files:
                for f in range(code_files):
                    out.write(b"M 100644 inline src/mod%02d/file%04d.rs\n" % (f // 100, f))
                    data("// revision 0\npub fn f%d() -> u32 { 0 }\n" % f)
            continue
        if n not in slot_set and pending and pending[0][0] <= n:
            rng.randint(0, code_files - 1)
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
        if n not in slot_set and extras and extras[0][0] <= n:
            rng.randint(0, code_files - 1)
            _, _, what, k, detail = heapq.heappop(extras)
            extra(n, t, what, incidents[k], k, detail)
            continue
        if n not in slot_set:
            f = rng.randint(0, code_files - 1)
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
            if kind == 2:
                in_order = at >= inc.get("investigating_at", at)
                later = []
                if k in close and in_order:
                    later.append(("close", None))
                if k in direct:
                    later.append(("postmortem", None))
                later += [("action", None)] * items[k]
                for what, detail in later:
                    heapq.heappush(extras, (n + xrng.randint(20, 600), next(order), what, k, detail))
    out.write(b"done\n")
    out.close()
    if git.wait() != 0:
        sys.exit("git fast-import failed")
    if args.published:
        with open(os.path.join(args.dir, ".git", "bench-published.txt"), "w", encoding="utf-8") as f:
            f.write("".join(line + "\n" for line in published))
    if extended:
        code = args.commits - 1 - ops_total - len(published) - sum(written.values())
        shape = {
            "commits": args.commits,
            "code_commits": code,
            "code_files": code_files,
            "incidents": args.incidents,
            "reviewed_postmortems": len(published),
            **written,
        }
        # What the tip's tree holds, counted as git lists it.
        paths = subprocess.run(
            ["git", "-C", args.dir, "ls-tree", "-r", "--name-only", "main"], capture_output=True, text=True, check=True
        ).stdout.splitlines()
        shape["tree_files"] = len(paths)
        shape["event_files"] = sum(1 for p in paths if p.startswith("incidents/") and "/events/" in p)
        shape["postmortem_files"] = sum(1 for p in paths if p.endswith("/postmortem.md"))
        shape["action_files"] = sum(1 for p in paths if "/actions/" in p)
        with open(os.path.join(args.dir, ".git", "bench-shape.txt"), "w", encoding="utf-8") as f:
            f.write("".join("%s %d\n" % item for item in shape.items()))
    # fast-import leaves no tracking of the tip in the index; give the
    # working tree the incidents config so the tool reads it the usual way.
    subprocess.run(["git", "-C", args.dir, "read-tree", "main"], check=True)
    subprocess.run(["git", "-C", args.dir, "checkout-index", "-f", "incidents/config.toml"], check=True)


if __name__ == "__main__":
    main()
