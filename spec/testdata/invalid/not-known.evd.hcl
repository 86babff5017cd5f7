app "bad" {}

queue "q" {}

function "fn" {
  name    = queue.q.name # ERROR: Value not known until deploy
  runtime = "go"
  source  = "./src"
}
