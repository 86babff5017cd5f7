app "bad" {}

topic "standard" {}
topic "ordered" { fifo = true }
queue "ordered" { fifo = true }
queue "plain" {}
bucket "uploads" {}

route "standard_to_fifo" {
  to = queue.ordered # ERROR: FIFO queue needs a FIFO topic
  topic { topic = topic.standard }
}

route "no_group" {
  to = queue.ordered # ERROR: Message group required
  schedule { expression = "rate(1 hour)" }
}

route "s3_fifo" {
  to = queue.ordered # ERROR: S3 cannot notify a FIFO destination
  s3 { bucket = bucket.uploads }
}

route "group_unused" { # ERROR: message_group not used
  to            = queue.plain
  message_group = "g"
  event { pattern = { source = ["x"] } }
}

route "to_fifo_topic" {
  to            = topic.ordered # ERROR: FIFO topic not supported
  event { pattern = { source = ["x"] } }
}

route "big_batch" {
  to            = queue.plain
  queue { # ERROR: Batch size too large
    queue      = queue.ordered
    batch_size = 100
  }
}
