#!/usr/bin/env bash
# Crash test: kill `incident update`, `declare` and `resolve`/`reopen` with
# SIGKILL at random moments, and after each kill check that
#   - `git fsck` is clean,
#   - the command recorded everything or nothing (one whole commit or none),
#   - the next command runs (no leftover lock or temp file blocks it) and
#     finishes any interrupted update of index and working tree,
#   - afterwards `git status` shows no stray entries of incident's files and
#     the user's own staged, modified and untracked files exactly as before,
#   - `incident check` is clean,
#   - text typed into a draft the killed command left (a resolve's
#     postmortem.md) survives the next command's recovery.
#
# Usage: scripts/crash-test.sh [KILLS] [MAX_DELAY_MS]
#   KILLS         how many commands to start and kill (default 200)
#   MAX_DELAY_MS  kill after a random delay of 0..MAX_DELAY_MS (default: one and
#                 a half times as long as one uncontended command takes here)
#   INCIDENT_BIN  the binary to test (default: target/debug/incident, built if missing)
set -euo pipefail

KILLS=${1:-200}
MAX_DELAY_MS=${2:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${INCIDENT_BIN:-$ROOT/target/debug/incident}
if [[ ! -x $BIN ]]; then
  (cd "$ROOT" && cargo build --quiet)
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 TZ=UTC LANG=C.UTF-8 HOME=$WORK
export GIT_AUTHOR_NAME=Crash GIT_AUTHOR_EMAIL=crash@example.com
export GIT_COMMITTER_NAME=Crash GIT_COMMITTER_EMAIL=crash@example.com
unset INCIDENT_NOW CI NO_COLOR || true

REPO=$WORK/repo
"$BIN" init "$REPO" >/dev/null
cd "$REPO"

# The user's own work, which must survive every crash untouched.
echo base >user.txt
echo base >staged.txt
git add user.txt staged.txt
git commit -q -m "user files"
echo modified >>user.txt
echo staged >>staged.txt
git add staged.txt
echo untracked >untracked.txt
user_status() { git status --porcelain=v1 --untracked-files=all -- user.txt staged.txt untracked.txt; }
USER_STATUS=$(user_status)

json_id() { grep -o '"id": *"[0-9a-z]*"' | head -1 | sed 's/.*"\([0-9a-z]*\)"$/\1/'; }
NOTES=$("$BIN" --format json declare "Crash target for notes" --severity SEV3 --no-input | json_id)
CYCLE=$("$BIN" --format json declare "Crash target for resolve" --severity SEV3 --no-input | json_id)
cycle_open=1

if [[ -z $MAX_DELAY_MS ]]; then
  start=$(date +%s%N)
  for n in 1 2 3; do "$BIN" update "$NOTES" -m "calibrate $n" >/dev/null; done
  MAX_DELAY_MS=$(( ($(date +%s%N) - start) / 3000000 * 3 / 2 + 1 ))
fi
echo "killing after 0..${MAX_DELAY_MS} ms"

killed=0 finished=0 recorded=0 not_recorded=0 journal_left=0 lock_left=0 ref_lock_left=0 drafts_typed=0 failures=0
fail() {
  echo "FAIL (run $i, $op): $*" >&2
  failures=$((failures + 1))
}

for ((i = 1; i <= KILLS; i++)); do
  sev=$((RANDOM % 2 + 2))
  case $((RANDOM % 3)) in
    0) op=update; expect=2; args=(update "$NOTES" -m "note $i" --severity "SEV$sev") ;;
    1) op=declare; expect=1; args=(declare "Crash $i" --severity SEV4 --no-input) ;;
    *)
      if ((cycle_open)); then
        op=resolve; expect=2; args=(resolve "$CYCLE" --resolution "fixed $i" -m "note $i")
      else
        op=reopen; expect=1; args=(reopen "$CYCLE")
      fi
      ;;
  esac
  # Keep the two severities apart so an update always changes it.
  if [[ $op == update ]]; then
    current=$("$BIN" --format json show "$NOTES" | grep -o '"severity": *"SEV[0-9]"' | head -1 | grep -o 'SEV[0-9]')
    [[ $current == "SEV$sev" ]] && sev=$((5 - sev)) && args=(update "$NOTES" -m "note $i" --severity "SEV$sev")
  fi
  before=$(git rev-parse HEAD)

  "$BIN" "${args[@]}" >/dev/null 2>&1 &
  pid=$!
  delay=$((RANDOM % MAX_DELAY_MS))
  sleep "$((delay / 1000)).$(printf '%03d' $((delay % 1000)))"
  if kill -KILL "$pid" 2>/dev/null; then :; fi
  if wait "$pid" 2>/dev/null; then rc=0; else rc=$?; fi
  if ((rc == 137)); then killed=$((killed + 1)); else finished=$((finished + 1)); fi
  if ((rc != 0 && rc != 137)); then fail "command exited $rc before it was killed"; fi

  [[ -e .git/incident-journal ]] && journal_left=$((journal_left + 1))
  [[ -e .git/index.lock ]] && lock_left=$((lock_left + 1))
  [[ -e .git/refs/heads/main.lock ]] && ref_lock_left=$((ref_lock_left + 1))

  # 1. git fsck clean.
  if ! fsck=$(git fsck --no-dangling --no-progress 2>&1) || [[ -n $fsck ]]; then
    fail "git fsck: $fsck"
  fi

  # 2. All or nothing.
  after=$(git rev-parse HEAD)
  if [[ $after == "$before" ]]; then
    not_recorded=$((not_recorded + 1))
  else
    recorded=$((recorded + 1))
    parent=$(git rev-parse HEAD^)
    [[ $parent == "$before" ]] || fail "more than one commit landed"
    added=$(git diff-tree --no-commit-id --name-status -r HEAD)
    # The files the command writes: its events (or incident.toml), and on
    # a first resolve the postmortem_due event the config asks for (the
    # draft goes to the review branch, never to this one).
    count=$(grep -c -E '^A	incidents/.*/(events/[^/]*|incident)\.toml$' <<<"$added" || true)
    extra=$(grep -v -c -E '^A	incidents/.*/(events/[^/]*|incident)\.toml$' <<<"$added" || true)
    if [[ $op == resolve ]] && grep -q -E '^A	incidents/.*/events/[^/]*-postmortem_due\.toml$' <<<"$added"; then
      count=$((count - 1))
    fi
    [[ $count == "$expect" && $extra == 0 ]] || fail "commit holds $count records and $extra other files, expected $expect: $added"
    if [[ $op == resolve ]]; then cycle_open=0; elif [[ $op == reopen ]]; then cycle_open=1; fi
    # A reopened incident has its postmortem already: resolve a fresh one
    # next, so that every first resolve writes a draft a kill can leave.
    if [[ $op == reopen ]]; then
      CYCLE=$("$BIN" --format json declare "Crash target $i" --severity SEV3 --no-input | json_id)
    fi
  fi

  # A draft the killed command staged: the user starts typing into it.
  typed=
  if [[ -e .git/incident-journal ]]; then
    typed=$(git diff --cached --name-only --diff-filter=A -- 'incidents/*/postmortem.md' | head -1)
    if [[ -n $typed && -f $typed ]]; then
      echo "typed after crash $i" >>"$typed"
      drafts_typed=$((drafts_typed + 1))
    else
      typed=
    fi
  fi

  # 3. The next command is not blocked, and finishes an interrupted update.
  if ! out=$("$BIN" update "$NOTES" -m "after $i" 2>&1); then
    fail "next command failed: $out"
  elif grep -q warning <<<"$out"; then
    fail "next command warned: $out"
  fi
  [[ -e .git/index.lock ]] && fail "index.lock left after the next command"
  [[ -e .git/refs/heads/main.lock ]] && fail "the branch's lock left after the next command"
  [[ -e .git/incident-journal ]] && fail "journal left after the next command"
  if [[ -n $typed ]]; then
    grep -q "typed after crash $i" "$typed" 2>/dev/null || fail "text typed into $typed was lost"
    # The draft is the user's now (untracked); they discard it.
    rm -f "$typed"
  fi

  # 4. No stray index entries; the user's work as it was.
  stray=$(git status --porcelain=v1 --untracked-files=all -- incidents)
  [[ -z $stray ]] || fail "git status shows incident files: $stray"
  [[ $(user_status) == "$USER_STATUS" ]] || fail "the user's files changed: $(user_status)"

  # 5. incident check clean.
  if ! out=$("$BIN" check 2>&1); then
    fail "incident check: $out"
  fi
done

echo "crash test: $KILLS runs, $killed killed mid-command, $finished finished before the kill;" \
  "$recorded recorded fully, $not_recorded recorded nothing, 0 partial;" \
  "$journal_left left a journal to finish, $lock_left an index.lock, $ref_lock_left a branch lock;" \
  "$drafts_typed drafts typed into and kept;" \
  "failures: $failures"
echo "commits: $(git rev-list --count HEAD), incidents: $("$BIN" --format json list --all | grep -c '"id"')"
((failures == 0))
