app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
}

trigger "t" {
  function = function.fn
  schedule {
    expression = "cron(60 2 ? * MON *)" # ERROR: Invalid schedule expression
  }
}
