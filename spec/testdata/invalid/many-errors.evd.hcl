app "bad" {}

function "fn" {
  runtime = "go1.x" # ERROR: Unsupported runtime
  source  = "./src"
  memory  = 50000 # ERROR: Value out of range
  timeout = "1h" # ERROR: Value out of range
}

queue "q" {
  visibility_timeout = "1d" # ERROR: Value out of range
}
