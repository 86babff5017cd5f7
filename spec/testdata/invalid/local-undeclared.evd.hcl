app "bad" {}

locals {
  a = 1
}

function "fn" {
  runtime = "go"
  source  = "./src"
  memory  = local.b # ERROR: Reference to undeclared local value
}
