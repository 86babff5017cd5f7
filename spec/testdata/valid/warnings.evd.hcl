# Warnings do not make a project invalid; each is marked where it points.
app "warned" {}

queue "q" {}

function "fn" {
  runtime = "go"
  source  = "../src/hello"
  handler = "main" # WARNING: Handler is ignored
  uses = [
    queue.q.send,
    queue.q.send, # WARNING: Duplicate capability
  ]
}

function "custom" {
  runtime = "provided.al2"
  source  = "../src/hello"
  handler = "function.sh.handler"
}
