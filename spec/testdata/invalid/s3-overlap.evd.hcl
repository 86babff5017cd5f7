app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
}

bucket "b" {}

trigger "images" {
  function = function.fn
  s3 {
    bucket = bucket.b
    events = ["created"]
    prefix = "in/"
  }
}

trigger "jpegs" {
  function = function.fn
  s3 { # ERROR: Overlapping S3 notifications
    bucket = bucket.b
    events = ["s3:ObjectCreated:Put"]
    prefix = "in/photos/"
    suffix = ".jpg"
  }
}
