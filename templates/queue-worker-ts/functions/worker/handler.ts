import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { z } from "zod";

// An order message, as producers send it.
export const Order = z.object({
  order_id: z.string().min(1),
  item: z.string().min(1),
  quantity: z.number().int().positive(),
});
export type Order = z.infer<typeof Order>;

// handler accepts the valid orders of a batch and returns the ids of the
// messages it rejects, so that Lambda retries only those (report_failures).
export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const batchItemFailures: SQSBatchResponse["batchItemFailures"] = [];
  for (const record of event.Records) {
    const order = parseOrder(record.body);
    if (!order.success) {
      console.error(JSON.stringify({ rejected: record.messageId, issues: order.error.issues }));
      batchItemFailures.push({ itemIdentifier: record.messageId });
      continue;
    }
    console.log(JSON.stringify({ accepted: order.data }));
  }
  return { batchItemFailures };
};

export function parseOrder(body: string) {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    value = undefined;
  }
  return Order.safeParse(value);
}
