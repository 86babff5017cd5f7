app "bad" {}

queue "q" {
  fifo = "maybe" # ERROR: Incorrect attribute value type
}
