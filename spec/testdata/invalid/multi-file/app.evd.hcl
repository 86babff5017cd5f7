app "bad" {}

queue "orders" {}
