app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
}

queue "q" {}
topic "tp" {}

trigger "t" {
  function = function.fn
  queue {
    queue = queue.q
  }
  topic { # ERROR: Multiple trigger sources
    topic = topic.tp
  }
}
