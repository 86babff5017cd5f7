app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
  memory  = 256.5 # ERROR: Invalid value
}
