app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
}

queue "q" {
  fifo = true
}

trigger "t" {
  function = function.fn
  queue { # ERROR: Batch size too large
    queue      = queue.q
    batch_size = 20
  }
}
