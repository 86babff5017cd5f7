app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
}

topic "t" {}

trigger "t" {
  function = function.fn
  topic {
    topic        = topic.t
    raw_delivery = true # ERROR: Unsupported argument
  }
}
