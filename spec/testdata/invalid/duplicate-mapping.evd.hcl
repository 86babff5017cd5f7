app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
}

queue "q" {}

trigger "one" {
  function = function.fn
  queue {
    queue = queue.q
  }
}

trigger "two" {
  function = function.fn
  queue { # ERROR: Duplicate event source mapping
    queue = queue.q
  }
}
