import json


def handler(event, context):
    # Says which route and path reached it, so a test sees the base path stripped.
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"route": event.get("routeKey"), "path": event.get("rawPath")}),
    }
