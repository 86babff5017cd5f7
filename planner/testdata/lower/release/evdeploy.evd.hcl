# A released function: every way in goes through its live alias.
app "rel" {}

api "http" {}
queue "jobs" {}
topic "news" {}
bucket "drop" {}
queue "failed" {}

function "api" {
  runtime = "go"
  source  = "./fn"
  url {
    auth = "none"
  }
  async {
    on_failure = queue.failed
  }
  release {
    canary {
      percent = 10
      wait    = "30s"
    }
    alarms     = ["rel-errors", alarm.api_errors]
    max_errors = "5%"
  }
}

function "plain" {
  runtime = "go"
  source  = "./fn"
  environment = {
    API = function.api.live_arn
  }
}

trigger "web" {
  function = function.api
  http {
    api   = api.http
    route = "GET /hello"
  }
}

trigger "work" {
  function = function.api
  queue { queue = queue.jobs }
}

trigger "news" {
  function = function.api
  topic { topic = topic.news }
}

trigger "drop" {
  function = function.api
  s3 {
    bucket = bucket.drop
    events = ["s3:ObjectCreated:*"]
  }
}

trigger "tick" {
  function = function.api
  schedule { expression = "rate(5 minutes)" }
}

alarm "api_errors" {
  metric    = function.api.errors
  threshold = 1
}
