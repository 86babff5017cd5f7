"""POST /stats: statistics of the text in the request body."""

import base64
import hmac
import json
import os
import time

import textkit

# The API key lives in SSM Parameter Store (the app's `secret "api_key"`);
# it is read with boto3 and kept for a minute, so `evdeploy secret set
# api_key` takes effect within a minute, with no deploy.
_KEY_TTL = 60
_key = {"value": None, "at": 0.0}
# What evdeploy puts in the parameter before the first `secret set`.
_UNSET = "evdeploy: no value yet (run evdeploy secret set)"


def _api_key():
    name = os.environ.get("API_KEY_PARAM")
    if not name:
        return None  # not deployed with the secret (unit tests)
    now = time.monotonic()
    if _key["value"] is None or now - _key["at"] > _KEY_TTL:
        try:
            import boto3  # in every Lambda Python runtime
        except ImportError:  # a local interpreter without it
            print("WARNING: boto3 is not installed; the API key cannot be read, the API is open")
            return None
        param = boto3.client("ssm").get_parameter(Name=name, WithDecryption=True)
        _key["value"], _key["at"] = param["Parameter"]["Value"], now
    if _key["value"] == _UNSET:
        print("WARNING: no API key set; the API is open. Run: evdeploy secret set api_key")
        return None
    return _key["value"]


def handler(event, context):
    key = _api_key()
    if key is not None:
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        if not hmac.compare_digest(headers.get("x-api-key", ""), key):
            return _reply(401, {"error": "missing or wrong x-api-key"})
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
