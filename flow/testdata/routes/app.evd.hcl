# Copied from spec/testdata/valid/routes.evd.hcl: every route source with each
# kind of target it allows, and async destinations.
app "routes" {}

function "risky" {
  runtime = "python3.12"
  source  = "./src"
  handler = "app.main"
  async {
    retries    = 0
    max_age    = "1h"
    on_failure = queue.failed
    on_success = bus.ops
  }
}

function "defaults" {
  runtime = "go"
  source  = "./src"
  async {}
}

queue "shipping" {}
queue "all" {}
queue "failed" {}
queue "ordered" { fifo = true }
topic "orders" {}
topic "alerts" {}
topic "ordered" { fifo = true }
bus "ops" {}
bus "archive" {}
bucket "uploads" {}
stream "archive" { shards = 1 }
table "orders" {
  hash_key = "id"
  stream   = "new_image"
}

route "express_to_shipping" {
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

route "fifo_fanout" {
  to = queue.ordered
  topic { topic = topic.ordered }
}

route "fifo_to_standard" {
  to = queue.all
  topic { topic = topic.ordered }
}

route "uploads" {
  to = queue.all
  s3 {
    bucket = bucket.uploads
    prefix = "in/"
  }
}

route "upload_alerts" {
  to = topic.alerts
  s3 {
    bucket = bucket.uploads
    events = ["removed"]
  }
}

route "ops_to_archive" {
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

route "default_bus_to_fifo" {
  to            = queue.ordered
  message_group = "defaults"
  event {
    pattern = { source = ["aws.s3"] }
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
    queue      = queue.failed
    batch_size = 5
    filter     = { body = { kind = ["order"] } }
  }
}

route "changes" {
  to = stream.archive
  dynamodb {
    table             = table.orders
    starting_position = "trim_horizon"
  }
}

route "replay" {
  to = topic.alerts
  kinesis { stream = stream.archive }
}
