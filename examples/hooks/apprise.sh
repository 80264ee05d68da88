#!/bin/sh
# Send incident events anywhere Apprise reaches (pip install apprise):
# email, Matrix, Discord, Telegram, Mattermost, Rocket.Chat, Pushover, ...
#
# [[hook]]
# name = "apprise"
# on = ["declared", "status"]
# run = ["sh", "examples/hooks/apprise.sh"]
# timeout = "20s"
#
# APPRISE_URLS holds one or more Apprise URLs separated by spaces (they
# carry tokens: keep them in the environment, not in a file in git).
set -eu
body=$(python3 -c 'import json,sys; e=json.load(sys.stdin); i=e["data"]["incident"]; c=e["data"]["event"]; print(i["severity"], i["title"], "(" + i["status"] + ")"); print(c.get("text", ""))')
# shellcheck disable=SC2086 # one argument per URL
apprise -t "incident $INCIDENT_ID: $INCIDENT_EVENT" -b "$body" $APPRISE_URLS
