# An HTTP API in Python: API Gateway → the "stats" function, which computes
# statistics of a text with textkit, the team's own library. requirements.txt
# names textkit's wheel; evdeploy installs it (and any PyPI package you add)
# with pip for Lambda's platform and puts it in the package.

app "__APP_NAME__" {
  region = "us-east-1" # overridden by --region / AWS_REGION
}

# The API key clients send in x-api-key. Its value is never in this file, in
# state or in a plan: set it with `evdeploy secret set api_key` (stdin).
secret "api_key" {
  description = "API key of the stats API"
}

function "stats" {
  runtime = "python3.12"
  source  = "./functions/stats"
  handler = "app.handler"
  timeout = "10s"
  uses    = [secret.api_key.read]
  # The parameter's name, not its value: the function reads the value at run time.
  environment = { API_KEY_PARAM = secret.api_key.name }
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
