app "bad" {}

queue "q" {
  name = "orders.fifo" # ERROR: Invalid name
}
