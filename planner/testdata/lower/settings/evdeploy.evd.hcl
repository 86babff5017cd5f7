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
  layers               = ["arn:aws:lambda:us-east-1:123456789012:layer:deps:3"]
  reserved_concurrency = 50
  tracing              = true
  ephemeral_storage    = 1024
  vpc {
    subnet_ids         = ["subnet-0bb1c79de3e0f9a1", "subnet-0aa1c79de3e0f9a2"]
    security_group_ids = ["sg-0123456789abcdef0"]
  }
  url {
    auth = "none"
  }
}

function "private" {
  runtime = "python3.12"
  source  = "./fn"
  handler = "main.handler"
  url {
    auth = "iam"
  }
}

output "api_url" {
  value = function.api.url
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

api "web" {
  cors {
    allow_origins = ["https://shop.example.com"]
    allow_methods = ["GET", "POST"]
    allow_headers = ["content-type", "authorization"]
    max_age       = "1h"
  }
  jwt "users" {
    issuer   = "https://issuer.example.com/"
    audience = ["shop-web"]
  }
}

trigger "list_orders" {
  function = function.api
  http {
    api        = api.web
    route      = "GET /orders"
    authorizer = "users"
    scopes     = ["orders.read"]
  }
}

trigger "health" {
  function = function.api
  http {
    api   = api.web
    route = "GET /health"
  }
}
