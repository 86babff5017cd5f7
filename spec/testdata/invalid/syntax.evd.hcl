app "bad" {}

queue "q" {
  fifo = = true # ERROR: Invalid expression
}
