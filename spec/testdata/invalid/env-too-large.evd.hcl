app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
  environment = { # ERROR: Environment too large
    BIG = join("", [for i in range(500) : "0123456789"])
  }
}
