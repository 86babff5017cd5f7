app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
  memory  = 10241 # ERROR: Value out of range
}
