app "bad" {}

queue "orders" {}

queue "orders" { # ERROR: Duplicate queue block
  fifo = true
}
