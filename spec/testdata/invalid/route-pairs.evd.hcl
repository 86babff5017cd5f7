app "bad" {}

topic "orders" {}
bucket "uploads" {}
bus "ops" {}
stream "archive" { shards = 1 }
queue "q" {}
api "web" {}

route "topic_to_stream" {
  to = stream.archive # ERROR: Route not allowed
  topic { topic = topic.orders }
}

route "s3_to_bus" {
  to = bus.ops # ERROR: Route not allowed
  s3 { bucket = bucket.uploads }
}

route "s3_to_stream" {
  to = stream.archive # ERROR: Route not allowed
  s3 { bucket = bucket.uploads }
}

route "topic_to_topic" {
  to = topic.orders # ERROR: Route not allowed
  topic { topic = topic.orders }
}

route "http" {
  to = queue.q
  http { # ERROR: Route not allowed
    api   = api.web
    route = "POST /orders"
  }
}
