app "bad" {}

function "a" {
  runtime = "go"
  source  = "./src"
  environment = {
    B = function.b.arn
  }
}

function "b" {
  runtime = "go"
  source  = "./src"
  environment = { # ERROR: Reference cycle
    A = local.a_arn
  }
}

locals {
  a_arn = function.a.arn
}
