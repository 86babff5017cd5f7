# A queue worker in TypeScript: producers send order messages to an SQS queue;
# Lambda polls it and hands batches to the "worker" function, which validates
# each message with zod (an npm dependency evdeploy bundles with esbuild) and
# reports the ones it rejects. Those are retried, and after three receives SQS
# moves them to the dead-letter queue.

app "__APP_NAME__" {
  region = "us-east-1"
}

function "worker" {
  runtime = "nodejs20.x"
  source  = "./functions/worker"
  handler = "handler.handler" # handler.ts, bundled into handler.js
  timeout = "30s"
}

queue "orders" {
  # At least the function's timeout, so a message is not handed to a second
  # worker while the first is still on it.
  visibility_timeout = "60s"
  dead_letter {
    max_receives = 3
  }
}

trigger "orders" {
  function = function.worker
  queue {
    queue           = queue.orders
    batch_size      = 10
    report_failures = true # ReportBatchItemFailures: retry only the rejected messages
  }
}

output "queue_url" {
  value = queue.orders.url
}

output "dead_letter_queue_url" {
  value = queue.orders.dlq_url
}
