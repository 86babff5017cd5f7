app "shop" {
  region = "us-east-1"          # overridden by --region / AWS_REGION
  tags   = { team = "orders" }
}

variable "stage" { default = "dev" }

locals {
  retention_days = var.stage == "prod" ? 30 : 3
}

function "api" {
  runtime = "go"                 # go | provided.al2023 | python3.12 | nodejs20.x ...
  source  = "./functions/api"    # built and zipped by evdeploy
  memory  = 256
  timeout = "10s"
  environment = {
    ORDERS_QUEUE = queue.orders.url
  }
  uses = [queue.orders.send]     # least-privilege grant, derived from the reference
}

function "worker" {
  runtime = "go"
  source  = "./functions/worker"
  uses    = [table.orders.write]
}

function "resize" {
  runtime = "python3.12"
  source  = "./functions/resize"
  handler = "main.handler"
}

function "report" {
  runtime = "go"
  source  = "./functions/report"
}

function "audit" {
  runtime = "go"
  source  = "./functions/audit"
}

function "clicks" {
  runtime = "nodejs20.x"
  source  = "./functions/clicks"
  handler = "index.handler"
}

api "public" {}

queue "orders" {
  visibility_timeout = "60s"
  dead_letter {
    max_receives = 5                   # creates and wires a DLQ
  }
}

bucket "uploads" {}
table "orders" {
  hash_key = "id"                      # type S unless declared: attribute "id" { type = "S" }
  stream   = "new_and_old_images"        # new_image | old_image | new_and_old_images | keys_only
}

stream "clickstream" {
  shards = 2
}

bus "events" {}

# Serverless app: API Gateway -> Lambda
trigger "http" {
  function = function.api
  http {
    api   = api.public
    route = "POST /orders"
  }
}

# Queue worker: SQS -> Lambda
trigger "orders" {
  function = function.worker
  queue {
    queue      = queue.orders
    batch_size = 10
  }
}

# File processing: S3 event -> Lambda
trigger "uploads" {
  function = function.resize
  s3 {
    bucket = bucket.uploads
    events = ["created"]               # created | removed | or full names like "s3:ObjectCreated:Put"
    prefix = "in/"
    suffix = ".jpg"
  }
}

# Database trigger: DynamoDB stream -> Lambda
trigger "order_changes" {
  function = function.audit
  dynamodb {
    table             = table.orders
    starting_position = "latest"
  }
}

# Serverless cron: EventBridge schedule -> Lambda
trigger "nightly" {
  function = function.report
  schedule {
    expression = "cron(0 2 * * ? *)"   # or "rate(5 minutes)"
  }
}

# Realtime stream processing: Kinesis -> Lambda
trigger "clicks" {
  function = function.clicks
  kinesis {
    stream            = stream.clickstream
    starting_position = "trim_horizon"
    batch_size        = 100
  }
}

# Event router: custom bus rule -> Lambda
trigger "order_placed" {
  function = function.audit
  event {
    bus     = bus.events
    pattern = {
      source        = ["shop.orders"]
      "detail-type" = ["OrderPlaced"]
    }
  }
}

topic "alerts" {}

# Fan-out: SNS topic -> Lambda
trigger "alerts" {
  function = function.audit
  topic {
    topic = topic.alerts
  }
}

output "api_url" {
  value = api.public.url
}
