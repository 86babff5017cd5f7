# Records each order it processes in queue "done"; it cannot process orders
# whose body contains "bad" (the bug the test fixes).
import os

import boto3

sqs = boto3.client("sqs")


def handler(event, context):
    for r in event["Records"]:
        if "bad" in r["body"]:
            raise ValueError("cannot process " + r["body"])
        sqs.send_message(QueueUrl=os.environ["DONE_URL"], MessageBody=r["body"])
    return {"ok": True}
