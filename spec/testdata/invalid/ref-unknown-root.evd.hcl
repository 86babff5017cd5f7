app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
  environment = {
    QUEUE = queues.orders.url # ERROR: Unknown variable
  }
}
