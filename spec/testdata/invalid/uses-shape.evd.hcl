app "bad" {}

queue "q" {}

function "fn" {
  runtime = "go"
  source  = "./src"
  uses    = [queue.q] # ERROR: Invalid capability
}
