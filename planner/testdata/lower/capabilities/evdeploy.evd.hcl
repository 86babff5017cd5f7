app "caps" {
  region = "eu-west-1"
}

function "all" {
  runtime = "python3.12"
  source  = "./fn"
  handler = "main.handler"
  name    = "explicit-fn"
  environment = {
    QUEUE  = queue.jobs.url
    TABLE  = table.items.name
    BUCKET = bucket.files.name
    MIXED  = "${table.items.name}/${stream.events.name}"
  }
  uses = [
    queue.jobs.send, queue.jobs.consume, topic.news.publish, bus.events.put,
    bucket.files.read, bucket.files.write, table.items.read, table.items.write,
    stream.events.put, stream.events.read,
  ]
  policy {
    actions   = ["ssm:GetParameter"]
    resources = ["arn:aws:ssm:eu-west-1:111111111111:parameter/caps/*"]
  }
  policy {
    actions   = ["s3:GetObjectVersion", "sqs:PurgeQueue"]
    resources = ["${bucket.files.arn}/archive/*", queue.jobs.arn]
  }
}

queue "jobs" {
  fifo = true
  dead_letter {
    max_receives = 3
  }
}

topic "news" {}
bus "events" {}
bucket "files" {}

table "items" {
  hash_key  = "pk"
  range_key = "sk"
}

stream "events" {
  shards = 1
}

trigger "files" {
  function = function.all
  s3 {
    bucket = bucket.files
    events = ["created", "removed"]
  }
}

trigger "any" {
  function = function.all
  http {
    api   = api.web
    route = "ANY /{proxy+}"
  }
}

api "web" {}

output "queue_url" {
  value = queue.jobs.url
}

output "api_url" {
  value = api.web.url
}

locals {
  jobs_url = queue.jobs.url
  greeting = "hello"
}

function "via_local" {
  runtime = "python3.12"
  source  = "./fn"
  handler = "main.handler"
  environment = {
    JOBS     = local.jobs_url
    GREETING = local.greeting
  }
}
