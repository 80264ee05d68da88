#!/usr/bin/env python3
"""Post incident events to a Slack incoming webhook.

[[hook]]
name = "slack"
on = ["declared", "status", "severity", "role"]
run = ["python3", "examples/hooks/slack.py"]
timeout = "10s"

The webhook URL (a secret) comes from SLACK_WEBHOOK_URL.
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
    what = "declared"
elif kind == "status":
    what = f"{change.get('from', '?')} → {change['status']}"
else:
    what = kind
text = f"*{incident['severity']}* `{incident['id']}` {incident['title']}: {what}"
if change.get("text"):
    text += f"\n> {change['text']}"
body = json.dumps({"text": text}).encode()
request = urllib.request.Request(
    os.environ["SLACK_WEBHOOK_URL"], data=body, headers={"Content-Type": "application/json"}
)
urllib.request.urlopen(request, timeout=8).read()
