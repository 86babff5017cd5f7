app "bad" {}

table "orders" { hash_key = "id" }
topic "t" {}
queue "q" {}
bus "ops" {}

route "wrong_kind" {
  to = table.orders # ERROR: Wrong kind of reference
  topic { topic = topic.t }
}

route "no_source" { # ERROR: Missing route source
  to = queue.q
}

route "two_sources" {
  to = queue.q
  schedule { expression = "rate(2 hours)" }
  schedule { expression = "rate(1 hour)" } # ERROR: Multiple route sources
}

route "no_stream" {
  to = bus.ops
  dynamodb { table = table.orders } # ERROR: Table has no stream
}

route "self" {
  to = bus.ops # ERROR: Route loops
  event {
    bus     = bus.ops
    pattern = { source = ["x"] }
  }
}

route "again" {
  to = queue.q
  topic { topic = topic.t }
}

route "again2" {
  to = queue.q
  topic { topic = topic.t } # ERROR: Duplicate subscription
}

route "bad_filter" {
  to = bus.ops
  queue {
    queue  = queue.q
    filter = { body = "x" } # ERROR: Invalid filter
  }
}
