app "bad" {}

queue "q" {
  name = "orders" # ERROR: Invalid name
  fifo = true
}
