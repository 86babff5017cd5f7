"""POST /stats: statistics of the text in the request body."""

import base64
import json

import textkit


def handler(event, context):
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    if not body.strip():
        return _reply(400, {"error": "send the text as the request body"})
    return _reply(200, textkit.stats(body, top=3))


def _reply(status, doc):
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(doc),
    }
