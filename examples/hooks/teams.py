#!/usr/bin/env python3
"""Post incident events to a Microsoft Teams incoming webhook (a Workflows
"post to a channel when a webhook request is received" URL) as an
Adaptive Card.

[[hook]]
name = "teams"
on = ["declared", "status"]
run = ["python3", "examples/hooks/teams.py"]
timeout = "10s"

The webhook URL (a secret) comes from TEAMS_WEBHOOK_URL.
"""

import json
import os
import sys
import urllib.request

event = json.load(sys.stdin)
incident = event["data"]["incident"]
change = event["data"]["event"]
facts = [
    {"title": "Severity", "value": incident["severity"]},
    {"title": "Status", "value": incident["status"]},
    {"title": "Services", "value": ", ".join(incident["services"]) or "-"},
]
card = {
    "type": "message",
    "attachments": [
        {
            "contentType": "application/vnd.microsoft.card.adaptive",
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    {"type": "TextBlock", "weight": "Bolder", "size": "Medium", "wrap": True,
                     "text": f"{incident['id']}: {incident['title']}"},
                    {"type": "TextBlock", "wrap": True,
                     "text": change.get("text") or event["type"].removeprefix("incident.")},
                    {"type": "FactSet", "facts": facts},
                ],
            },
        }
    ],
}
request = urllib.request.Request(
    os.environ["TEAMS_WEBHOOK_URL"],
    data=json.dumps(card).encode(),
    headers={"Content-Type": "application/json"},
)
urllib.request.urlopen(request, timeout=8).read()
