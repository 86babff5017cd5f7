# One Python function per trigger kind; each writes a marker object into
# bucket "markers" when its event arrives (cmd/evdeploy local_triggers_test.go).
app "alltriggers" {
  region = "us-east-1"
}

function "http" {
  runtime = "python3.12"
  source  = "./functions/marker"
  handler = "main.handler"
  environment = {
    KIND          = "http"
    MARKER_BUCKET = bucket.markers.name
  }
  uses = [bucket.markers.write]
}

function "s3" {
  runtime = "python3.12"
  source  = "./functions/marker"
  handler = "main.handler"
  environment = {
    KIND          = "s3"
    MARKER_BUCKET = bucket.markers.name
  }
  uses = [bucket.markers.write]
}

function "topic" {
  runtime = "python3.12"
  source  = "./functions/marker"
  handler = "main.handler"
  environment = {
    KIND          = "topic"
    MARKER_BUCKET = bucket.markers.name
  }
  uses = [bucket.markers.write]
}

function "bus" {
  runtime = "python3.12"
  source  = "./functions/marker"
  handler = "main.handler"
  environment = {
    KIND          = "bus"
    MARKER_BUCKET = bucket.markers.name
  }
  uses = [bucket.markers.write]
}

function "default_bus" {
  runtime = "python3.12"
  source  = "./functions/marker"
  handler = "main.handler"
  environment = {
    KIND          = "default_bus"
    MARKER_BUCKET = bucket.markers.name
  }
  uses = [bucket.markers.write]
}

function "schedule" {
  runtime = "python3.12"
  source  = "./functions/marker"
  handler = "main.handler"
  environment = {
    KIND          = "schedule"
    MARKER_BUCKET = bucket.markers.name
  }
  uses = [bucket.markers.write]
}

function "queue" {
  runtime = "python3.12"
  source  = "./functions/marker"
  handler = "main.handler"
  environment = {
    KIND          = "queue"
    MARKER_BUCKET = bucket.markers.name
  }
  uses = [bucket.markers.write]
}

function "kinesis" {
  runtime = "python3.12"
  source  = "./functions/marker"
  handler = "main.handler"
  environment = {
    KIND          = "kinesis"
    MARKER_BUCKET = bucket.markers.name
  }
  uses = [bucket.markers.write]
}

function "dynamodb" {
  runtime = "python3.12"
  source  = "./functions/marker"
  handler = "main.handler"
  environment = {
    KIND          = "dynamodb"
    MARKER_BUCKET = bucket.markers.name
  }
  uses = [bucket.markers.write]
}

bucket "markers" {}
bucket "uploads" {}
api "web" {}
topic "alerts" {}
bus "orders" {}
queue "jobs" {}
stream "clicks" {}
table "items" {
  hash_key = "id"
  stream   = "new_image"
}

trigger "http" {
  function = function.http
  http {
    api   = api.web
    route = "GET /hello"
  }
}

trigger "s3" {
  function = function.s3
  s3 {
    bucket = bucket.uploads
    prefix = "incoming/"
    suffix = ".txt"
  }
}

trigger "topic" {
  function = function.topic
  topic {
    topic = topic.alerts
  }
}

trigger "bus" {
  function = function.bus
  event {
    bus     = bus.orders
    pattern = { source = ["shop.orders"], "detail-type" = ["OrderPlaced"] }
  }
}

trigger "default_bus" {
  function = function.default_bus
  event {
    pattern = { source = ["shop.audit"] }
  }
}

trigger "schedule" {
  function = function.schedule
  schedule {
    expression = "cron(* * * * ? *)"
    input      = { job = "nightly" }
  }
}

trigger "queue" {
  function = function.queue
  queue {
    queue = queue.jobs
  }
}

trigger "kinesis" {
  function = function.kinesis
  kinesis {
    stream = stream.clicks
  }
}

trigger "dynamodb" {
  function = function.dynamodb
  dynamodb {
    table = table.items
  }
}

output "api_url" {
  value = api.web.url
}
