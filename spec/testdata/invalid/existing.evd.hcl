app "shop" {}

function "worker" {
  runtime = "go"
  source  = "../valid/functions/api"
}

queue "jobs" {
  existing           = "team-jobs"
  visibility_timeout = "60s" # ERROR: Setting beside existing
  dead_letter { # ERROR: Setting beside existing
    max_receives = 3
  }
}

bus "org" {
  existing = "arn:aws:events:us-east-1:123456789012:event-bus/org-events"
  tags     = { team = "x" } # ERROR: Setting beside existing
}

bucket "landing" {
  existing = "" # ERROR: Invalid existing
}

table "core" {
  existing = queue.jobs.arn # ERROR: Invalid existing
}

app_outputs "core" {
  path = "../core"
}

topic "news" {
  existing = app_outputs.core.topic_arn
}
