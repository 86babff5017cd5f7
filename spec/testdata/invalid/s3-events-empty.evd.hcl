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
    events = [] # ERROR: Invalid value
  }
}
