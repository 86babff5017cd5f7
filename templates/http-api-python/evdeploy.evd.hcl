# An HTTP API in Python: API Gateway → the "stats" function, which computes
# statistics of a text with textkit, the team's own library. requirements.txt
# names textkit's wheel; evdeploy installs it (and any PyPI package you add)
# with pip for Lambda's platform and puts it in the package.

app "__APP_NAME__" {
  region = "us-east-1" # overridden by --region / AWS_REGION
}

function "stats" {
  runtime = "python3.12"
  source  = "./functions/stats"
  handler = "app.handler"
  timeout = "10s"
}

api "public" {}

trigger "text_stats" {
  function = function.stats
  http {
    api   = api.public
    route = "POST /stats"
  }
}

output "api_url" {
  value       = api.public.url
  description = "base URL of the HTTP API"
}
