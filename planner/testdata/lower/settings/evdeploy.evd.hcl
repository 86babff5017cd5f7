# Every setting of issue 14 that lowers to an attribute of a resource.
app "settings" {}

function "api" {
  runtime = "python3.12"
  source  = "./fn"
  handler = "main.handler"
  uses    = [table.orders.read]
  environment = {
    BY_CUSTOMER = "${table.orders.arn}/index/by_customer"
  }
}

table "orders" {
  hash_key = "id"
  attribute "customer" { type = "S" }
  attribute "placed_at" { type = "N" }
  index "by_customer" {
    hash_key   = "customer"
    range_key  = "placed_at"
    projection = "all"
  }
  index "by_status" {
    hash_key   = "status"
    projection = ["total", "placed_at"]
  }
  point_in_time_recovery = true
}

bucket "uploads" {
  versioning = true
  lifecycle "tmp" {
    prefix       = "tmp/"
    expire_after = "7d"
  }
}
