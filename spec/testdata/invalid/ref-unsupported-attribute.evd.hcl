app "bad" {}

queue "orders" {}

function "fn" {
  runtime = "go"
  source  = "./src"
  environment = {
    QUEUE = queue.orders.uri # ERROR: Unsupported attribute
  }
}
