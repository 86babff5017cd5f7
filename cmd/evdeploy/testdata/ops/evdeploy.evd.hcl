# The worker runs on python3.11: the host interpreter that has boto3 (the
# engine picks the interpreter by version). A worker that fails on some messages, behind a queue with a DLQ, with the
# default alarms on (cmd/evdeploy ops_e2e_test.go). The alarm topic is routed
# to queue "pager" so a test can read the notifications.
app "ops" {
  region = "us-east-1"
  alarms {
    notify = [topic.ops]
    period = "10s"
  }
}

topic "ops" {}

queue "pager" {}

route "page" {
  to = queue.pager
  topic {
    topic = topic.ops
  }
}

queue "orders" {
  visibility_timeout = "3s"
  dead_letter {
    max_receives = 3
  }
}

queue "done" {}

function "worker" {
  runtime = "python3.11"
  source  = "./worker"
  handler = "main.handler"
  environment = {
    DONE_URL = queue.done.url
  }
  uses = [queue.done.send]
}

trigger "orders" {
  function = function.worker
  queue {
    queue      = queue.orders
    batch_size = 1
  }
}
