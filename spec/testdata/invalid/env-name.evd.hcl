app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
  environment = {
    "1ST" = "x" # ERROR: Invalid environment variable name
    OK    = "y"
  }
}
