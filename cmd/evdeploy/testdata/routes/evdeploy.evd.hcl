# The issue's acceptance app: one of each route kind, and a failing
# asynchronous invocation with an on_failure destination.
app "routes" {
  region = "us-east-1"
}

# Orders published to a topic reach one queue, and only the filtered ones the
# other, raw.
topic "orders" {}
queue "all_orders" {}
queue "express" {}

route "all_orders" {
  to = queue.all_orders
  topic { topic = topic.orders }
}

route "express" {
  to = queue.express
  topic {
    topic         = topic.orders
    filter_policy = { shipping = ["express"] }
    raw_delivery  = true
  }
}

# One event on a custom bus reaches a queue and a stream.
bus "ops" {}
queue "ops" {}
stream "ops" { shards = 1 }

route "ops_to_queue" {
  to = queue.ops
  event {
    bus     = bus.ops
    pattern = { source = ["acceptance.ops"] }
  }
}

route "ops_to_stream" {
  to = stream.ops
  event {
    bus     = bus.ops
    pattern = { source = ["acceptance.ops"] }
  }
}

# An object put reaches a queue.
bucket "uploads" {}
queue "uploads" {}

route "uploads" {
  to = queue.uploads
  s3 {
    bucket = bucket.uploads
    prefix = "in/"
  }
}

# A schedule's input reaches a topic, and through it a queue.
topic "ticks" {}
queue "ticks" {}

route "tick" {
  to = topic.ticks
  schedule {
    expression = "rate(1 hour)"
    input      = { tick = "acceptance" }
  }
}

route "ticks" {
  to = queue.ticks
  topic {
    topic        = topic.ticks
    raw_delivery = true
  }
}

# A failing asynchronous invocation lands in its on_failure queue.
queue "failed" {}

function "risky" {
  runtime = "python3.12"
  source  = "./functions/risky"
  handler = "main.handler"
  async {
    retries    = 0
    on_failure = queue.failed
  }
}

# A queue drained into another through a pipe, filtered.
queue "backlog" {}
queue "drained" {}

route "drain" {
  to = queue.drained
  queue {
    queue  = queue.backlog
    filter = { body = { kind = ["order"] } }
  }
}
