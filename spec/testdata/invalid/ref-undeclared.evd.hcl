app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
}

queue "orders" {}

trigger "t" {
  function = function.fn
  queue {
    queue = queue.ordrs # ERROR: Reference to undeclared queue
  }
}
