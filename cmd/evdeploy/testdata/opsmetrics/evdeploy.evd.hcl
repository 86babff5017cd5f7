# One alarm per typed metric (cmd/evdeploy ops_e2e_test.go): each applies,
# re-plans clean and destroys.
app "opsmetrics" {
  region = "us-east-1"
}

topic "ops" {}

function "fn" {
  runtime = "python3.12"
  source  = "./fn"
  handler = "main.handler"
}

queue "work" {
  dead_letter {
    max_receives = 3
  }
}

stream "clicks" {
  shards = 1
}

api "public" {}

trigger "clicks" {
  function = function.fn
  kinesis {
    stream            = stream.clicks
    starting_position = "latest"
  }
}

alarm "errors" {
  metric    = function.fn.errors
  threshold = 1
  period    = "10s"
  notify    = [topic.ops]
}

alarm "throttles" {
  metric    = function.fn.throttles
  threshold = 1
  period    = "30s"
  notify    = [topic.ops]
}

alarm "invocations" {
  metric             = function.fn.invocations
  threshold          = 1000
  period             = "1m"
  evaluation_periods = 3
}

alarm "duration" {
  metric    = function.fn.duration_p99
  threshold = 2500.5
}

alarm "async_dropped" {
  metric    = function.fn.async_dropped
  threshold = 1
}

alarm "depth" {
  metric    = queue.work.depth
  threshold = 100
}

alarm "oldest" {
  metric    = queue.work.oldest_age
  threshold = 600
}

alarm "dlq" {
  metric    = queue.work.dlq_depth
  threshold = 1
  notify    = [topic.ops]
}

alarm "behind" {
  metric    = trigger.clicks.iterator_age
  threshold = 60000
  period    = "5m"
}

alarm "gateway" {
  metric    = api.public.errors_5xx
  threshold = 5
}

alarm "latency" {
  metric    = api.public["5xx"]
  threshold = 10
}

alarm "slow_api" {
  metric    = api.public.latency_p99
  threshold = 1500
}
