# Every route kind, a bucket shared by a trigger and routes, and async
# destinations (the function destination derived, so mutual ones make no cycle).
app "fabric" {
  region = "us-east-1"
}

function "risky" {
  runtime = "python3.12"
  source  = "./fn"
  handler = "main.handler"
  async {
    retries    = 0
    max_age    = "1h"
    on_failure = queue.failed
    on_success = function.audit
  }
}

function "audit" {
  runtime = "python3.12"
  source  = "./fn"
  handler = "main.handler"
  async {
    on_failure = function.risky
    on_success = bus.ops
  }
}

queue "shipping" {}
queue "all" {}
queue "failed" {}
queue "ordered" { fifo = true }
topic "orders" {}
topic "alerts" {}
bus "ops" {}
bus "archive" {}
bucket "uploads" {}
stream "archive" { shards = 1 }
table "orders" {
  hash_key = "id"
  stream   = "new_image"
}

trigger "thumbs" {
  function = function.audit
  s3 {
    bucket = bucket.uploads
    prefix = "img/"
  }
}

route "express" {
  to = queue.shipping
  topic {
    topic         = topic.orders
    filter_policy = { express = ["yes"] }
    raw_delivery  = true
  }
}

route "all_orders" {
  to = queue.all
  topic { topic = topic.orders }
}

route "uploads" {
  to = queue.all
  s3 {
    bucket = bucket.uploads
    prefix = "in/"
  }
}

route "removed" {
  to = topic.alerts
  s3 {
    bucket = bucket.uploads
    events = ["removed"]
  }
}

route "ops_to_stream" {
  to = stream.archive
  event {
    bus     = bus.ops
    pattern = { source = ["fabric.ops"] }
  }
}

route "ops_to_bus" {
  to = bus.archive
  event {
    bus     = bus.ops
    pattern = { source = ["fabric.ops"] }
  }
}

route "ops_to_queue" {
  to            = queue.ordered
  message_group = "ops"
  event {
    bus     = bus.ops
    pattern = { source = ["fabric.ops"] }
  }
}

route "tick" {
  to = topic.orders
  schedule {
    expression = "rate(1 minute)"
    input      = { tick = true }
  }
}

route "drain" {
  to = bus.ops
  queue {
    queue  = queue.failed
    filter = { body = { kind = ["order"] } }
  }
}

route "changes" {
  to = stream.archive
  dynamodb { table = table.orders }
}
