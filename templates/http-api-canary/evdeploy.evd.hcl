# A safe release of an HTTP API. GET /quote/{sku} reaches the "api" function
# through its "live" alias. Every change to the function publishes a new
# version and moves the alias step by step — a canary: 10% of requests on the
# new version for 5 minutes, then all of them — while evdeploy watches the
# api_errors alarm and the new version's own error rate. Either one tripping
# sends all traffic back to the previous version at once and fails the apply.

app "__APP_NAME__" {
  region = "us-east-1"
}

api "public" {}

function "api" {
  runtime = "go"
  source  = "./functions/pricing"
  memory  = 128
  timeout = "10s"

  release {
    canary {
      percent = 10   # of requests on the new version during the wait
      wait    = "5m" # seconds work too ("20s"): handy on the local engine
    }
    alarms        = [alarm.api_errors] # any of them in ALARM rolls back
    max_errors    = "2%"               # the new version's own error rate
    keep_versions = 3                  # older unused versions are deleted
  }
}

# The function's errors, over every version: an alarm the team already pages
# on, reused as a release guard.
alarm "api_errors" {
  metric    = function.api.errors
  threshold = 5
  period    = "1m"
}

trigger "quote" {
  function = function.api
  http {
    api   = api.public
    route = "GET /quote/{sku}"
  }
}

output "api_url" {
  value       = api.public.url
  description = "GET <api_url>/quote/lamp?quantity=3"
}

output "live_arn" {
  value       = function.api.live_arn
  description = "the live alias every route and permission points at"
}
