app "shop" {}

variable "stage" { default = "dev" }

app_outputs "core" {
  path  = "../core"
  stage = var.stage
}

function "worker" {
  runtime     = "go"
  source      = "./functions/api"
  environment = { CORE_TABLE = app_outputs.core.table_name }
  uses        = [bus.org.put, table.core.read]
}

queue "jobs" { existing = "team-jobs" }
topic "news" { existing = "arn:aws:sns:us-east-1:123456789012:news" }
bus "org" { existing = app_outputs.core.bus_name }
bucket "landing" { existing = "acme-landing-zone" }
table "core" { existing = "core-dev-orders" }
stream "clicks" { existing = "clicks" }

trigger "jobs" {
  function = function.worker
  queue { queue = queue.jobs }
}

trigger "news" {
  function = function.worker
  topic { topic = topic.news }
}

trigger "orders" {
  function = function.worker
  event {
    bus     = bus.org
    pattern = { source = ["shop.orders"] }
  }
}

trigger "landing" {
  function = function.worker
  s3 {
    bucket = bucket.landing
    events = ["created"]
    prefix = "in/"
  }
}

trigger "changes" {
  function = function.worker
  dynamodb { table = table.core }
}

trigger "clicks" {
  function = function.worker
  kinesis { stream = stream.clicks }
}
