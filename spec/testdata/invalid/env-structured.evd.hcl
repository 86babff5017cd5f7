app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
  environment = {
    LIST = ["a", "b"] # ERROR: Invalid environment value
  }
}
