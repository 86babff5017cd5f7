app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
  handler = "main" # WARNING: Handler is ignored
  memory  = 0 # ERROR: Value out of range
}
