# Serverless cron: an EventBridge schedule (the producer and router in one)
# runs the "report" function (the consumer) every hour. The function takes an
# inventory of the objects under data/ in the bucket and writes it as a JSON
# report under reports/.

app "__APP_NAME__" {
  region = "us-east-1"
}

function "report" {
  runtime = "go"
  source  = "./functions/report"
  timeout = "60s"
  environment = {
    BUCKET = bucket.reports.name
  }
  uses = [bucket.reports.read, bucket.reports.write]
}

bucket "reports" {}

trigger "hourly" {
  function = function.report
  schedule {
    expression = "rate(1 hour)" # or a cron expression: "cron(0 6 * * ? *)"
  }
}

output "bucket" {
  value = bucket.reports.name
}
