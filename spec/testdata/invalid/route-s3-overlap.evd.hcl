app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
}

bucket "b" {}
queue "q" {}

trigger "images" {
  function = function.fn
  s3 {
    bucket = bucket.b
    prefix = "in/"
  }
}

route "copies" {
  to = queue.q
  s3 { # ERROR: Overlapping S3 notifications
    bucket = bucket.b
    prefix = "in/photos/"
  }
}
