app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
}

queue "q" {}

trigger "t" {
  function = function.fn
  queue {
    queue      = queue.q
    batch_size = 20000 # ERROR: Value out of range
  }
}
