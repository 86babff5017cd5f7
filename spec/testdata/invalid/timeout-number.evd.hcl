app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
  timeout = 10 # ERROR: Invalid duration
}
