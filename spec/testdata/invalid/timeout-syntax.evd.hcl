app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
  timeout = "10 sec" # ERROR: Invalid duration
}
