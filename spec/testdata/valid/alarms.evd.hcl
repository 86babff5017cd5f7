# Alarms: declared ones on every typed metric, and the defaults.
app "watched" {
  alarms {
    notify = [topic.ops]
    period = "10s"
    skip   = [queue.noisy, trigger.quiet]
  }
}

topic "ops" {}
topic "pager" {}

function "api" {
  runtime = "go"
  source  = "../src/hello"
}

function "risky" {
  runtime = "go"
  source  = "../src/hello"
  async {
    retries = 0
  }
}

queue "orders" {
  dead_letter {
    max_receives = 3
  }
}

queue "noisy" {
  dead_letter {
    max_receives = 3
  }
}

stream "clicks" {
  shards = 1
}

api "public" {}

trigger "clicks" {
  function = function.api
  kinesis {
    stream            = stream.clicks
    starting_position = "latest"
  }
}

trigger "quiet" {
  function = function.risky
  kinesis {
    stream            = stream.clicks
    starting_position = "latest"
  }
}

alarm "api_errors" {
  metric             = function.api.errors
  threshold          = 1
  period             = "1m"
  evaluation_periods = 2
  notify             = [topic.pager]
}

alarm "slow" {
  metric    = function.api.duration_p99
  threshold = 2500.5
}

alarm "backlog" {
  metric    = queue.orders.depth
  threshold = 100
  period    = "30s"
}

alarm "gateway" {
  metric    = api.public["5xx"]
  threshold = 5
}

alarm "behind" {
  metric    = trigger.clicks.iterator_age
  threshold = 1000
  period    = "5m"
}

output "alarm" {
  value = alarm.api_errors.arn
}

bus "events" {
  archive {
    retention = "30d"
  }
}

bus "forever" {
  archive {}
}
