app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
}

queue "q" {}

trigger "t" {
  function = function.fn
  queue { # ERROR: Batching window required
    queue      = queue.q
    batch_size = 100
  }
}
