# File processing: a producer uploads a text file to the "uploads" bucket; S3
# (the router) emits an ObjectCreated event for it; the "process" function (the
# consumer) reads the object and writes a JSON summary to the "processed"
# bucket. Output goes to a different bucket so the function never triggers
# itself.

app "__APP_NAME__" {
  region = "us-east-1"
}

function "process" {
  runtime = "go"
  source  = "./functions/process"
  memory  = 256
  timeout = "30s"
  environment = {
    OUTPUT_BUCKET = bucket.processed.name
  }
  uses = [bucket.uploads.read, bucket.processed.write]
}

bucket "uploads" {}
bucket "processed" {}

trigger "uploads" {
  function = function.process
  s3 {
    bucket = bucket.uploads
    events = ["created"]
    prefix = "incoming/"
  }
}

output "upload_bucket" {
  value = bucket.uploads.name
}

output "output_bucket" {
  value = bucket.processed.name
}
