app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
}

trigger "t" {
  function = function.fn
  schedule {
    expression = "cron(0 2 * * ?)" # ERROR: Invalid schedule expression
  }
}
