# A bus that archives its events, and a route to a queue a test reads
# (cmd/evdeploy ops_e2e_test.go: replay on the engine and on moto).
app "replay" {
  region = "us-east-1"
}

bus "events" {
  archive {
    retention = "1d"
  }
}

queue "seen" {}

route "orders" {
  to = queue.seen
  event {
    bus     = bus.events
    pattern = { source = ["shop.orders"] }
  }
}
