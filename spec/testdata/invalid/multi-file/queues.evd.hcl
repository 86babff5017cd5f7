queue "orders" { # ERROR: Duplicate queue block
  fifo = true
}

function "fn" {
  runtime = "go"
  source  = "./functions/fn" # ERROR: Source folder not found
  uses    = [queue.orders.send]
}
