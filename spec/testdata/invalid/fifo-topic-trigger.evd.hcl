app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
}

topic "t" {
  fifo = true
}

trigger "t" {
  function = function.fn
  topic { # ERROR: FIFO topic cannot trigger a function
    topic = topic.t
  }
}
