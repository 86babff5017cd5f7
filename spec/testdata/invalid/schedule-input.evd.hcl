app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
}

trigger "t" {
  function = function.fn
  schedule {
    expression = "rate(1 day)"
    input      = "{not json" # ERROR: Invalid value
  }
}
