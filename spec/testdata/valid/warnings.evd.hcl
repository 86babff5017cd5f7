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

function "py" {
  runtime = "python3.12"
  source  = "../src/hello"
  handler = "missing.handler" # WARNING: Handler file not found
}

function "node" {
  runtime = "nodejs22.x"
  source  = "../src/hello"
  handler = "index.handler" # WARNING: Handler file not found
}

function "go_empty" {
  runtime = "go"
  source  = "../src/empty" # WARNING: No Go code in source
}
