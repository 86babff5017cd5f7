# Explicit physical names, tags everywhere, policies, a backend and the
# provisioned / on-demand variants.
app "named" {
  tags = { cost-center = "42" }
  backend "s3" {
    bucket = "named-state-bucket"
    key    = "evdeploy/named.json"
    region = "us-west-2"
  }
}

function "fn" {
  name          = "Named_Function-1"
  runtime       = "java21"
  handler       = "example.Handler::handleRequest"
  source        = "../src/hello"
  memory        = 10240
  timeout       = "15m"
  log_retention = 3653
  tags          = { tier = "gold" }
  uses = [
    queue.q.send, topic.t.publish, bus.b.put, bucket.bk.read, bucket.bk.write,
    table.tb.read, stream.s.put, stream.s.read, function.fn.invoke,
  ]
  policy {
    actions   = ["s3:GetObject", "s3:List*"]
    resources = ["${bucket.bk.arn}/*", bucket.bk.arn]
  }
  policy {
    effect    = "Deny"
    actions   = ["sqs:DeleteQueue"]
    resources = ["*"]
  }
}

queue "q" {
  name = "exact-queue.fifo"
  fifo = true
  dead_letter {
    max_receives = 1000
    retention    = "1d"
  }
}
topic "t" {
  name = "exact_topic"
}
bus "b" {
  name = "exact.bus/path"
}
bucket "bk" {
  name = "my.exact-bucket.123"
}
table "tb" {
  name           = "Exact.Table_1"
  hash_key       = "id"
  billing_mode   = "PROVISIONED"
  read_capacity  = 5
  write_capacity = 2
  ttl_attribute  = "expires_at"
  attribute "id" {
    type = "B"
  }
}
stream "s" {
  name      = "exact-stream"
  shards    = 4
  retention = "365d"
}
api "a" {
  name = "Exact API"
}

output "bucket" {
  value     = bucket.bk.name
  sensitive = true
}
