app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
}

trigger "t" {
  function = function.fn
  schedule {
    expression = "every 5 minutes" # ERROR: Invalid schedule expression
  }
}
