# Fan-out: producers publish each order once to an SNS topic (the router).
# Two routes deliver it on to two SQS queues: "billing" gets every order,
# "express" only the orders whose "shipping" message attribute is "express"
# (a filter policy), delivered raw. Each queue buffers for its own worker; a
# message a worker keeps failing moves to that queue's dead-letter queue.

app "__APP_NAME__" {
  region = "us-east-1"
}

topic "orders" {}

queue "billing" {
  # At least the worker's timeout, so a message is not handed to a second
  # worker while the first is still on it.
  visibility_timeout = "60s"
  dead_letter {
    max_receives = 3
  }
}

queue "express" {
  visibility_timeout = "60s"
  dead_letter {
    max_receives = 3
  }
}

# Router → router: SNS subscribes each queue; the queue's policy lets exactly
# this topic send to it.
route "orders_to_billing" {
  to = queue.billing
  topic {
    topic = topic.orders
  }
}

route "express_orders" {
  to = queue.express
  topic {
    topic         = topic.orders
    filter_policy = { shipping = ["express"] }
    raw_delivery  = true # the queue gets the order itself, not SNS's envelope
  }
}

table "results" {
  hash_key = "id"
}

function "invoice" {
  runtime = "go"
  source  = "./functions/invoice"
  timeout = "30s"
  environment = {
    RESULTS_TABLE = table.results.name
  }
  uses = [table.results.write]
}

function "dispatch" {
  runtime = "go"
  source  = "./functions/dispatch"
  timeout = "30s"
  environment = {
    RESULTS_TABLE = table.results.name
  }
  uses = [table.results.write]
}

trigger "invoice" {
  function = function.invoice
  queue {
    queue           = queue.billing
    report_failures = true # retry only the failed messages
  }
}

trigger "dispatch" {
  function = function.dispatch
  queue {
    queue           = queue.express
    report_failures = true
  }
}

output "topic_arn" {
  value = topic.orders.arn
}

output "billing_dead_letter_queue_url" {
  value = queue.billing.dlq_url
}

output "express_dead_letter_queue_url" {
  value = queue.express.dlq_url
}

output "results_table" {
  value = table.results.name
}
