app "bad" {
  alarms {
    notify = [queue.plain] # ERROR: Wrong kind of reference
    period = "45s" # ERROR: Invalid period
  }
}

topic "ops" {}
queue "plain" {}

function "fn" {
  runtime = "go"
  source  = "./src"
}

trigger "pull" {
  function = function.fn
  queue {
    queue = queue.plain
  }
}

alarm "unknown_metric" {
  metric    = function.fn.errorz # ERROR: Unknown metric
  threshold = 1
}

alarm "no_dlq" {
  metric    = queue.plain.dlq_depth # ERROR: Metric not available
  threshold = 1
}

alarm "not_stream" {
  metric    = trigger.pull.iterator_age # ERROR: Metric not available
  threshold = 1
}

alarm "no_block" {
  metric    = function.missing.errors # ERROR: Reference to undeclared function
  threshold = 1
}

alarm "bad_kind" {
  metric    = topic.ops.errors # ERROR: Invalid metric
  threshold = 1
}

alarm "bad_notify" {
  metric    = function.fn.errors
  threshold = "lots" # ERROR: Incorrect attribute value type
  notify    = [topic.ops, topic.ops] # ERROR: Invalid value
}

bus "b" {
  archive {
    retention = "36h" # ERROR: Invalid value
  }
  archive {} # ERROR: Duplicate archive block
}
