# Common boto3 idioms against the endpoint in AWS_ENDPOINT_URL. Prints
# "ok <idiom>" for each that behaves as on AWS, "FAIL <idiom>: <why>" otherwise.
import io
import json
import sys
import traceback
import urllib.request
import uuid

import boto3
from botocore.config import Config

run = uuid.uuid4().hex[:8]
cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
ddb = boto3.resource("dynamodb", config=cfg)
results = []


def idiom(name):
    def wrap(fn):
        try:
            fn()
            results.append("ok " + name)
        except Exception as e:  # noqa: BLE001
            traceback.print_exc(file=sys.stderr)
            results.append(f"FAIL {name}: {type(e).__name__}: {e}")
        return fn
    return wrap


table = ddb.create_table(
    TableName="fid-" + run,
    KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
    BillingMode="PAY_PER_REQUEST",
)


@idiom("dynamodb batch_writer")
def _():
    with table.batch_writer() as batch:
        for i in range(60):
            batch.put_item(Item={"id": f"item-{i}", "n": i})
    assert table.scan(Select="COUNT")["Count"] == 60


@idiom("dynamodb paginator")
def _():
    pages = boto3.client("dynamodb", config=cfg).get_paginator("scan").paginate(TableName=table.name, PaginationConfig={"PageSize": 7})
    assert sum(p["Count"] for p in pages) == 60


@idiom("dynamodb conditional write")
def _():
    table.put_item(Item={"id": "cond"}, ConditionExpression="attribute_not_exists(id)")
    try:
        table.put_item(Item={"id": "cond"}, ConditionExpression="attribute_not_exists(id)")
    except table.meta.client.exceptions.ConditionalCheckFailedException:
        return
    raise AssertionError("the second conditional put succeeded")


@idiom("dynamodb counter")
def _():
    for _ in range(3):
        out = table.update_item(Key={"id": "counter"}, UpdateExpression="ADD hits :one",
                                ExpressionAttributeValues={":one": 1}, ReturnValues="UPDATED_NEW")
    assert out["Attributes"]["hits"] == 3


@idiom("dynamodb transaction")
def _():
    c = boto3.client("dynamodb", config=cfg)
    c.transact_write_items(TransactItems=[
        {"Put": {"TableName": table.name, "Item": {"id": {"S": "tx-1"}}}},
        {"Put": {"TableName": table.name, "Item": {"id": {"S": "tx-2"}}}},
    ])
    assert "Item" in c.get_item(TableName=table.name, Key={"id": {"S": "tx-2"}})


@idiom("sns publish_batch")
def _():
    sns = boto3.client("sns", config=cfg)
    arn = sns.create_topic(Name="fid-" + run)["TopicArn"]
    out = sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[
        {"Id": "a", "Message": "one"},
        {"Id": "b", "Message": "two", "Subject": "s",
         "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}}},
    ])
    assert sorted(e["Id"] for e in out["Successful"]) == ["a", "b"], out
    assert out.get("Failed", []) == [], out


@idiom("sqs batches and attributes")
def _():
    sqs = boto3.client("sqs", config=cfg)
    url = sqs.create_queue(QueueName="fid-" + run)["QueueUrl"]
    sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": str(i), "MessageBody": f"m{i}", "MessageAttributes": {"n": {"DataType": "Number", "StringValue": str(i)}}}
        for i in range(3)])
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], AttributeNames=["All"])
    msgs = got.get("Messages", [])
    assert len(msgs) == 3 and all("n" in m["MessageAttributes"] for m in msgs), got
    sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in msgs])


@idiom("s3 multipart upload")
def _():
    s3 = boto3.client("s3", config=cfg)
    bucket = "fid-" + run
    s3.create_bucket(Bucket=bucket)
    data = b"x" * (6 * 1024 * 1024)
    s3.upload_fileobj(io.BytesIO(data), bucket, "big.bin",
                      Config=boto3.s3.transfer.TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024))
    assert s3.head_object(Bucket=bucket, Key="big.bin")["ContentLength"] == len(data)


@idiom("s3 presigned url")
def _():
    s3 = boto3.client("s3", config=cfg)
    bucket = "fid-" + run
    s3.put_object(Bucket=bucket, Key="small.txt", Body=b"hello")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "small.txt"}, ExpiresIn=60)
    assert urllib.request.urlopen(url).read() == b"hello"


@idiom("kinesis put_records")
def _():
    k = boto3.client("kinesis", config=cfg)
    k.create_stream(StreamName="fid-" + run, ShardCount=1)
    out = k.put_records(StreamName="fid-" + run, Records=[{"Data": b"r%d" % i, "PartitionKey": "p"} for i in range(5)])
    assert out["FailedRecordCount"] == 0 and len(out["Records"]) == 5


@idiom("eventbridge put_events")
def _():
    out = boto3.client("events", config=cfg).put_events(Entries=[
        {"Source": "fid", "DetailType": "t", "Detail": json.dumps({"a": 1})}])
    assert out["FailedEntryCount"] == 0 and out["Entries"][0]["EventId"]


print("\n".join(results))
