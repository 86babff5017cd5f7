# Every trigger source with every attribute set.
app "sources" {}

function "all" {
  runtime      = "python3.13"
  source       = "../src/hello"
  handler      = "app.main"
  timeout      = "30s"
  architecture = "x86_64"

  layers               = ["arn:aws:lambda:us-east-1:123456789012:layer:deps:3"]
  reserved_concurrency = 50
  tracing              = true
  ephemeral_storage    = 1024
  vpc {
    subnet_ids         = ["subnet-0123456789abcdef0", "subnet-89abcdef"]
    security_group_ids = ["sg-0123456789abcdef0"]
  }
  url {
    auth = "none"
  }
}

output "all_url" {
  value = function.all.url
}

function "other" {
  runtime = "go"
  source  = "../src/hello"
}

api "web" {
  cors {
    allow_origins     = ["https://shop.example.com"]
    allow_methods     = ["get", "POST"]
    allow_headers     = ["content-type", "authorization"]
    expose_headers    = ["x-request-id"]
    allow_credentials = true
    max_age           = "1h"
  }
  jwt "users" {
    issuer   = "https://issuer.example.com/"
    audience = ["shop-web"]
  }
  jwt "admins" {
    issuer          = "https://admin.example.com/"
    audience        = ["shop-admin", "ops"]
    identity_source = "$request.header.X-Admin-Token"
  }
}
queue "fifo" {
  fifo               = true
  visibility_timeout = "1m"
  retention          = "14d"
  delay              = "15m"
}
queue "bulk" {
  visibility_timeout = "12h"
  retention          = "60s"
}
topic "news" {}
bus "orders" {}
bucket "media" {
  versioning = true
  lifecycle "tmp" {
    prefix       = "tmp/"
    expire_after = "7d"
  }
  lifecycle "all" {
    expire_after = "365d"
  }
}
table "events" {
  hash_key  = "pk"
  range_key = "sk"
  stream    = "keys_only"
  attribute "sk" {
    type = "N"
  }
  attribute "customer" {
    type = "S"
  }
  attribute "placed_at" {
    type = "N"
  }
  index "by_customer" {
    hash_key   = "customer"
    range_key  = "placed_at"
    projection = "all"
  }
  index "by_sk" {
    hash_key   = "sk"
    projection = ["total", "status"]
  }
  index "placed" {
    hash_key   = "placed_at"
    projection = "KEYS_ONLY"
  }
  point_in_time_recovery = true
}
stream "clicks" {
  on_demand = true
  retention = "7d"
}

trigger "root" {
  function = function.all
  http {
    api   = api.web
    route = "$default"
  }
}

trigger "proxy" {
  function = function.all
  http {
    api        = api.web
    route      = "ANY /v1/{tenant}/{proxy+}"
    authorizer = "users"
    scopes     = ["orders.read"]
  }
}

trigger "fifo" {
  function = function.all
  queue {
    queue           = queue.fifo
    batch_size      = 10
    max_concurrency = 5
    report_failures = true
  }
}

trigger "bulk" {
  function = function.all
  queue {
    queue           = queue.bulk
    batch_size      = 10000
    batching_window = "5m"
    enabled         = false
  }
}

trigger "news" {
  function = function.all
  topic {
    topic = topic.news
    filter_policy = {
      store = ["example_corp"]
      price = [{ numeric = [">=", 100] }]
    }
  }
}

trigger "media_in" {
  function = function.all
  s3 {
    bucket = bucket.media
    events = ["created", "s3:ObjectRemoved:Delete"]
    prefix = "in/"
  }
}

trigger "media_out" {
  function = function.other
  s3 {
    bucket = bucket.media
    events = ["s3:ObjectCreated:Put"]
    prefix = "out/"
  }
}

trigger "media_any_png" {
  function = function.other
  s3 {
    bucket = bucket.media
    events = ["s3:ObjectTagging:*"]
    suffix = ".png"
  }
}

trigger "changes" {
  function = function.all
  dynamodb {
    table                  = table.events
    starting_position      = "TRIM_HORIZON"
    batch_size             = 1000
    batching_window        = "10s"
    max_retry_attempts     = 3
    bisect_on_error        = true
    report_failures        = true
    parallelization_factor = 10
  }
}

trigger "clicks" {
  function = function.all
  kinesis {
    stream     = stream.clicks
    batch_size = 10000
  }
}

trigger "hourly" {
  function = function.all
  schedule {
    expression = "rate(1 hour)"
    input      = { report = "hourly", depth = 2 }
  }
}

trigger "weekdays" {
  function = function.other
  schedule {
    expression = "cron(15 8-17/2 ? JAN-MAR,OCT MON-FRI 2026-2030)"
    input      = jsonencode({ kind = "weekday" })
    enabled    = false
  }
}

trigger "monthly" {
  function = function.other
  schedule {
    expression = "cron(0 0 L * ? *)"
  }
}

trigger "second_friday" {
  function = function.other
  schedule {
    expression = "cron(0/30 12 ? * 6#2 *)"
  }
}

trigger "placed" {
  function = function.all
  event {
    bus = bus.orders
    pattern = {
      source = ["shop"]
      detail = {
        amount = [{ numeric = [">", 0] }]
      }
    }
  }
}

trigger "console" {
  function = function.other
  event {
    pattern = jsonencode({ source = ["aws.signin"] })
  }
}
