app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
  timeout = "2m"
}

queue "q" {}

trigger "t" {
  function = function.fn
  queue { # ERROR: Queue visibility timeout too short
    queue = queue.q
  }
}
