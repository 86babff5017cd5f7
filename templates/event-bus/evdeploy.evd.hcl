# An event router. The "producer" function (behind an HTTP API) publishes an
# OrderPlaced event to the custom "orders" bus and knows nothing of who
# listens. Rules on the bus (the router) route each event to the consumers
# whose pattern matches it: "billing" gets every order, "express" only express
# ones. Both publish a notice to the "notifications" SNS topic, which fans it
# out to every subscriber — here the "notifier" function.

app "__APP_NAME__" {
  region = "us-east-1"
}

locals {
  event_source = "__APP_NAME__.orders"
}

bus "orders" {}

topic "notifications" {}

api "public" {}

function "producer" {
  runtime = "go"
  source  = "./functions/producer"
  timeout = "10s"
  environment = {
    BUS_NAME     = bus.orders.name
    EVENT_SOURCE = local.event_source
  }
  uses = [bus.orders.put]
}

function "billing" {
  runtime = "go"
  source  = "./functions/billing"
  timeout = "10s"
  environment = {
    TOPIC_ARN = topic.notifications.arn
  }
  uses = [topic.notifications.publish]
}

function "express" {
  runtime = "go"
  source  = "./functions/express"
  timeout = "10s"
  environment = {
    TOPIC_ARN = topic.notifications.arn
  }
  uses = [topic.notifications.publish]
}

function "notifier" {
  runtime = "go"
  source  = "./functions/notifier"
  timeout = "10s"
}

trigger "place_order" {
  function = function.producer
  http {
    api   = api.public
    route = "POST /orders"
  }
}

# Every order is billed.
trigger "bill_order" {
  function = function.billing
  event {
    bus = bus.orders
    pattern = {
      source        = [local.event_source]
      "detail-type" = ["OrderPlaced"]
    }
  }
}

# Only express orders go to the express desk.
trigger "express_order" {
  function = function.express
  event {
    bus = bus.orders
    pattern = {
      source        = [local.event_source]
      "detail-type" = ["OrderPlaced"]
      detail        = { priority = ["express"] }
    }
  }
}

trigger "notify" {
  function = function.notifier
  topic {
    topic = topic.notifications
  }
}

output "api_url" {
  value = api.public.url
}

output "bus_name" {
  value = bus.orders.name
}

output "topic_arn" {
  value = topic.notifications.arn
}
