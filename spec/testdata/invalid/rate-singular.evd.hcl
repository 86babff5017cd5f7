app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
}

trigger "t" {
  function = function.fn
  schedule {
    expression = "rate(1 minutes)" # ERROR: Invalid schedule expression
  }
}
