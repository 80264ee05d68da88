#!/bin/sh
# Push incident events to an ntfy topic (https://ntfy.sh or your own server).
#
# [[hook]]
# name = "ntfy"
# on = ["declared", "resolved"]
# severity = ["SEV1", "SEV2"]
# run = ["sh", "examples/hooks/ntfy.sh"]
# timeout = "10s"
#
# NTFY_TOPIC_URL is the topic's URL (its name is the secret); NTFY_TOKEN an
# optional access token. Needs curl; the title and body come from the
# event's environment and a short JSON read with python3.
set -eu
summary=$(python3 -c 'import json,sys; e=json.load(sys.stdin); i=e["data"]["incident"]; print(i["severity"], i["title"], "-", i["status"])')
priority=default
case "$summary" in SEV1*) priority=urgent ;; SEV2*) priority=high ;; esac
set -- -fsS -m 8 -H "Title: incident $INCIDENT_ID: $INCIDENT_EVENT" -H "Priority: $priority" -d "$summary"
if [ -n "${NTFY_TOKEN:-}" ]; then set -- "$@" -H "Authorization: Bearer $NTFY_TOKEN"; fi
curl "$@" "$NTFY_TOPIC_URL" >/dev/null
