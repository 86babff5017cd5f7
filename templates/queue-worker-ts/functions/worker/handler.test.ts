// Run with: npm test (type-checks, then node --test on the compiled tests).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { SQSEvent } from "aws-lambda";
import { handler } from "./handler.js";

const record = (messageId: string, body: string) => ({ messageId, body }) as SQSEvent["Records"][number];

test("valid orders are accepted, the others reported as failures", async () => {
  const res = await handler({
    Records: [
      record("m1", JSON.stringify({ order_id: "o-1", item: "book", quantity: 2 })),
      record("m2", JSON.stringify({ order_id: "o-2", item: "", quantity: 1 })),
      record("m3", "not json"),
    ],
  });
  assert.deepEqual(res, { batchItemFailures: [{ itemIdentifier: "m2" }, { itemIdentifier: "m3" }] });
});
