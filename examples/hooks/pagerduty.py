#!/usr/bin/env python3
"""Page through PagerDuty Events API v2. The dedup_key is the incident id,
so `incident ack` and `incident resolve` acknowledge and resolve the same
PagerDuty incident that `incident declare` triggered.

[[hook]]
name = "pagerduty"
on = ["declared", "status"]
severity = ["SEV1", "SEV2"]
run = ["python3", "examples/hooks/pagerduty.py"]
timeout = "15s"

The integration's routing key (a secret) comes from PAGERDUTY_ROUTING_KEY
(PAGERDUTY_EVENTS_URL overrides the endpoint, for a test receiver).
Escalation, schedules and SMS stay in PagerDuty.
"""

import json
import os
import sys
import urllib.request

event = json.load(sys.stdin)
incident = event["data"]["incident"]
change = event["data"]["event"]
kind = event["type"].removeprefix("incident.")
if kind == "declared":
    action = "trigger"
elif kind == "status" and change.get("status") in ("resolved", "closed", "cancelled", "duplicate"):
    action = "resolve"
elif kind == "status" or (kind == "milestone" and change.get("milestone") == "acknowledged"):
    action = "acknowledge"
else:
    sys.exit(0)
severity = {"SEV1": "critical", "SEV2": "error", "SEV3": "warning"}.get(incident["severity"], "info")
message = {
    "routing_key": os.environ["PAGERDUTY_ROUTING_KEY"],
    "event_action": action,
    "dedup_key": incident["id"],
}
if action == "trigger":
    message["payload"] = {
        "summary": f"{incident['severity']} {incident['title']}"[:1024],
        "source": event["repo"],
        "severity": severity,
        "timestamp": event["timestamp"],
        "component": ", ".join(incident["services"]) or None,
        "custom_details": {"incident": incident["id"], "summary": incident["summary"]},
    }
request = urllib.request.Request(
    os.environ.get("PAGERDUTY_EVENTS_URL", "https://events.pagerduty.com/v2/enqueue"),
    data=json.dumps(message).encode(),
    headers={"Content-Type": "application/json"},
)
urllib.request.urlopen(request, timeout=10).read()
