# Routers feeding routers: a FIFO topic, a filtered subscription, the default
# bus, a queue with a dead-letter queue and a function publishing to a topic.
app "fabric" {}

function "intake" {
  runtime = "go"
  source  = "./src"
  uses    = [topic.orders.publish, bus.ops.put]
}

function "ship" {
  runtime = "python3.12"
  source  = "./src"
  handler = "main.handler"
}

function "watch" {
  runtime = "nodejs20.x"
  source  = "./src"
  handler = "index.handler"
}

api "edge" {}
topic "orders" {}
bus "ops" {}

queue "shipping" {
  dead_letter { max_receives = 3 }
}

trigger "intake" {
  function = function.intake
  http {
    api   = api.edge
    route = "ANY /{proxy+}"
  }
}

trigger "express" {
  function = function.ship
  topic {
    topic         = topic.orders
    filter_policy = { express = ["yes"] }
  }
}

trigger "ship" {
  function = function.ship
  queue { queue = queue.shipping }
}

trigger "ec2" {
  function = function.watch
  event {
    pattern = { source = ["aws.ec2"] }
  }
}

trigger "ops" {
  function = function.watch
  event {
    bus     = bus.ops
    pattern = { "detail-type" = ["Deployed"] }
  }
}
