# Writes one marker object per event into MARKER_BUCKET, under the trigger
# kind that delivered it, so a test can see which event sources fired.
import json
import os
import uuid

import boto3

s3 = boto3.client("s3")


def handler(event, context):
    kind = os.environ["KIND"]
    print(f"{kind}: event received")
    key = f"{kind}/{uuid.uuid4()}.json"
    s3.put_object(Bucket=os.environ["MARKER_BUCKET"], Key=key, Body=json.dumps(event).encode())
    if kind == "http":
        return {"statusCode": 200, "body": "fired"}
    return {"ok": True}
