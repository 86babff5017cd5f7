# A queue worker: producers send order messages to an SQS queue (the buffer);
# Lambda polls it and hands batches to the "worker" function (the consumer),
# which reports the messages it could not handle. Those are retried, and after
# three receives SQS moves them to the dead-letter queue for a human to inspect.

app "__APP_NAME__" {
  region = "us-east-1"
}

function "worker" {
  runtime = "go"
  source  = "./functions/worker"
  timeout = "30s"
  environment = {
    ORDERS_TABLE = table.orders.name
  }
  uses = [table.orders.write]
}

queue "orders" {
  # At least the function's timeout, so a message is not handed to a second
  # worker while the first is still on it.
  visibility_timeout = "60s"
  dead_letter {
    max_receives = 3
  }
}

table "orders" {
  hash_key = "order_id"
}

trigger "orders" {
  function = function.worker
  queue {
    queue           = queue.orders
    batch_size      = 10
    report_failures = true # ReportBatchItemFailures: retry only the failed messages
  }
}

output "queue_url" {
  value = queue.orders.url
}

output "dead_letter_queue_url" {
  value = queue.orders.dlq_url
}

output "table_name" {
  value = table.orders.name
}
