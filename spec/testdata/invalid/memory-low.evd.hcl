app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
  memory  = 64 # ERROR: Value out of range
}
