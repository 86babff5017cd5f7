"""resize: reacts to images uploaded under in/ in the uploads bucket.

The example keeps to the standard library, so it records what a real
resizer would process: bucket, key and size of each new object.
"""
import json
import urllib.parse


def handler(event, context):
    done = []
    for record in event.get("Records", []):
        s3 = record.get("s3", {})
        bucket = s3.get("bucket", {}).get("name")
        # S3 URL-encodes keys in notifications (spaces arrive as '+').
        key = urllib.parse.unquote_plus(s3.get("object", {}).get("key", ""))
        size = s3.get("object", {}).get("size", 0)
        out_key = "out/" + key[len("in/"):] if key.startswith("in/") else key
        done.append({"bucket": bucket, "key": key, "size": size, "target": out_key})
        print(json.dumps({"resize": key, "bytes": size, "to": out_key}))
    return {"processed": len(done), "objects": done}
