// Common AWS SDK for JavaScript v3 idioms against the endpoint in
// AWS_ENDPOINT_URL. Prints "ok <idiom>" for each that behaves as on AWS,
// "FAIL <idiom>: <why>" otherwise (details on stderr).
import { randomBytes } from "node:crypto";
import { CreateTableCommand, DynamoDBClient, ConditionalCheckFailedException, paginateScan } from "@aws-sdk/client-dynamodb";
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { CreateQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { CreateTopicCommand, PublishBatchCommand, PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { CreateStreamCommand, KinesisClient, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";

const run = randomBytes(4).toString("hex");
// Endpoint, region and credentials come from the AWS_* environment, as in an app.
const cfg = { maxAttempts: 1 };
const ddb = new DynamoDBClient(cfg);
const doc = DynamoDBDocumentClient.from(ddb);
const table = "fid-js-" + run;
const results = [];

async function idiom(name, fn) {
  try {
    await fn();
    results.push("ok " + name);
  } catch (e) {
    console.error(name, e);
    results.push(`FAIL ${name}: ${e?.name}: ${e?.message}`);
  }
}

function assert(cond, what) {
  if (!cond) throw new Error("assertion failed: " + what);
}

await ddb.send(new CreateTableCommand({
  TableName: table, BillingMode: "PAY_PER_REQUEST",
  KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
  AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
}));

await idiom("dynamodb batch write", async () => {
  // The documented loop: write 25 at a time, resend UnprocessedItems until empty.
  for (let i = 0; i < 60; i += 25) {
    let req = { [table]: [] };
    for (let j = i; j < Math.min(i + 25, 60); j++) req[table].push({ PutRequest: { Item: { id: `item-${j}`, n: j } } });
    while (Object.keys(req).length > 0) {
      const out = await doc.send(new BatchWriteCommand({ RequestItems: req }));
      req = out.UnprocessedItems;
    }
  }
  const out = await doc.send(new ScanCommand({ TableName: table, Select: "COUNT" }));
  assert(out.Count === 60, `count ${out.Count}`);
});

await idiom("dynamodb paginator", async () => {
  let n = 0, pages = 0;
  for await (const page of paginateScan({ client: ddb, pageSize: 7 }, { TableName: table })) {
    n += page.Count;
    pages++;
  }
  assert(n === 60 && pages >= 9, `${n} items in ${pages} pages`);
});

await idiom("dynamodb conditional write", async () => {
  const put = new PutCommand({ TableName: table, Item: { id: "cond" }, ConditionExpression: "attribute_not_exists(id)" });
  await doc.send(put);
  try {
    await doc.send(put);
  } catch (e) {
    assert(e instanceof ConditionalCheckFailedException, `got ${e?.name}`);
    return;
  }
  throw new Error("the second conditional put succeeded");
});

await idiom("dynamodb counter", async () => {
  let out;
  for (let i = 0; i < 3; i++) {
    out = await doc.send(new UpdateCommand({ TableName: table, Key: { id: "counter" }, UpdateExpression: "ADD hits :one",
      ExpressionAttributeValues: { ":one": 1 }, ReturnValues: "UPDATED_NEW" }));
  }
  assert(out.Attributes.hits === 3, `hits ${out.Attributes.hits}`);
});

await idiom("dynamodb transaction", async () => {
  await doc.send(new TransactWriteCommand({ TransactItems: [
    { Put: { TableName: table, Item: { id: "tx-1" } } },
    { Put: { TableName: table, Item: { id: "tx-2" } } },
  ] }));
  const out = await doc.send(new GetCommand({ TableName: table, Key: { id: "tx-2" } }));
  assert(out.Item?.id === "tx-2", "tx-2 missing");
});

await idiom("sns publish and publish batch", async () => {
  const sns = new SNSClient(cfg);
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: "fid-js-" + run }));
  const one = await sns.send(new PublishCommand({ TopicArn, Message: "single" }));
  assert(one.MessageId, "no MessageId");
  const out = await sns.send(new PublishBatchCommand({ TopicArn, PublishBatchRequestEntries: [
    { Id: "a", Message: "one" },
    { Id: "b", Message: "two", Subject: "s", MessageAttributes: { k: { DataType: "String", StringValue: "v" } } },
  ] }));
  assert(out.Successful?.map((e) => e.Id).sort().join() === "a,b", JSON.stringify(out));
  assert((out.Failed ?? []).length === 0, JSON.stringify(out));
});

await idiom("sqs batches and attributes", async () => {
  const sqs = new SQSClient(cfg);
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "fid-js-" + run }));
  const sent = await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: [0, 1, 2].map((i) => ({
    Id: String(i), MessageBody: `m${i}`, MessageAttributes: { n: { DataType: "Number", StringValue: String(i) } } })) }));
  assert(sent.Successful?.length === 3 && (sent.Failed ?? []).length === 0, JSON.stringify(sent));
  const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10,
    MessageAttributeNames: ["All"], MessageSystemAttributeNames: ["All"] }));
  const msgs = got.Messages ?? [];
  assert(msgs.length === 3 && msgs.every((m) => m.MessageAttributes?.n?.StringValue !== undefined && m.Attributes?.SentTimestamp),
    JSON.stringify(got));
  const del = await sqs.send(new DeleteMessageBatchCommand({ QueueUrl,
    Entries: msgs.map((m) => ({ Id: m.MessageId, ReceiptHandle: m.ReceiptHandle })) }));
  assert(del.Successful?.length === 3, JSON.stringify(del));
});

const s3 = new S3Client({ ...cfg, forcePathStyle: true });
const bucket = "fid-js-" + run;

await idiom("s3 multipart upload", async () => {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const body = Buffer.alloc(6 * 1024 * 1024, "x");
  await new Upload({ client: s3, params: { Bucket: bucket, Key: "big.bin", Body: body }, partSize: 5 * 1024 * 1024, queueSize: 1 }).done();
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "big.bin" }));
  assert(head.ContentLength === body.length, `ContentLength ${head.ContentLength}`);
});

await idiom("s3 presigned url", async () => {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "small.txt", Body: "hello" }));
  const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: "small.txt" }), { expiresIn: 60 });
  const res = await fetch(url);
  const text = await res.text();
  assert(res.ok && text === "hello", `${res.status} ${text}`);
});

await idiom("kinesis put records", async () => {
  const k = new KinesisClient(cfg);
  await k.send(new CreateStreamCommand({ StreamName: "fid-js-" + run, ShardCount: 1 }));
  const out = await k.send(new PutRecordsCommand({ StreamName: "fid-js-" + run,
    Records: [0, 1, 2, 3, 4].map((i) => ({ Data: Buffer.from(`r${i}`), PartitionKey: "p" })) }));
  assert(out.FailedRecordCount === 0 && out.Records.length === 5, JSON.stringify(out));
});

await idiom("eventbridge put events", async () => {
  const out = await new EventBridgeClient(cfg).send(new PutEventsCommand({ Entries: [
    { Source: "fid", DetailType: "t", Detail: JSON.stringify({ a: 1 }) }] }));
  assert(out.FailedEntryCount === 0 && out.Entries[0].EventId, JSON.stringify(out));
});

console.log(results.join("\n"));
