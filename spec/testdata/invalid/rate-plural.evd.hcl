app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
}

trigger "t" {
  function = function.fn
  schedule {
    expression = "rate(5 minute)" # ERROR: Invalid schedule expression
  }
}
