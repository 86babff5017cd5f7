# Realtime stream processing: producers put click events on the "clicks"
# Kinesis stream; Lambda reads each shard in order (the router) and hands
# batches to the "aggregate" function (the consumer), which adds up views per
# page in a table. When a write fails, the function reports where to resume
# (a partial batch failure), so Lambda retries from that record on instead of
# the whole batch.

app "__APP_NAME__" {
  region = "us-east-1"
}

function "aggregate" {
  runtime = "go"
  source  = "./functions/aggregate"
  timeout = "30s"
  environment = {
    VIEWS_TABLE = table.page_views.name
  }
  uses = [table.page_views.write]
}

stream "clicks" {
  shards = 1
}

table "page_views" {
  hash_key = "page"
}

trigger "clicks" {
  function = function.aggregate
  kinesis {
    stream             = stream.clicks
    starting_position  = "trim_horizon"
    batch_size         = 100
    report_failures    = true # ReportBatchItemFailures: resume from the first failed record
    max_retry_attempts = 10
  }
}

output "stream_name" {
  value = stream.clicks.name
}

output "table_name" {
  value = table.page_views.name
}
