app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
  timeout = "16m" # ERROR: Value out of range
}
