app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
}

bucket "b" {}

trigger "t" {
  function = function.fn
  s3 {
    bucket = bucket.b
    events = ["s3:ObjectCreated:Upload"] # ERROR: Invalid S3 event
  }
}
