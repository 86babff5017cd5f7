# A serverless HTTP API: API Gateway (the front door) → Lambda → DynamoDB.
# Producer: people and programs calling the API. Router: the HTTP API's routes.
# Consumer: the "api" function, which keeps the items in a table.

app "__APP_NAME__" {
  region = "us-east-1" # overridden by --region / AWS_REGION
}

function "api" {
  runtime = "go"
  source  = "./functions/api"
  memory  = 128
  timeout = "10s"
  environment = {
    TABLE_NAME = table.items.name
  }
  uses = [table.items.read, table.items.write]
}

variable "jwt_issuer" {
  description = "the OpenID issuer whose tokens may delete items (your Cognito user pool, Auth0 tenant…)"
  default     = "https://issuer.example.com/"
}

table "items" {
  hash_key = "id"
  # A global secondary index: look items up by name (Query on "by_name").
  attribute "name" { type = "S" }
  index "by_name" {
    hash_key   = "name"
    projection = "keys_only"
  }
}

api "public" {
  # Browsers on the shop's site may call the API; API Gateway answers the
  # preflight requests itself.
  cors {
    allow_origins = ["https://shop.example.com"]
    allow_methods = ["GET", "POST", "DELETE"]
    allow_headers = ["content-type", "authorization"]
    max_age       = "1h"
  }
  # Tokens from this issuer, for this audience, authorize the routes that
  # name it (delete_item below).
  jwt "users" {
    issuer   = var.jwt_issuer
    audience = ["items-web"]
  }
}

trigger "create_item" {
  function = function.api
  http {
    api   = api.public
    route = "POST /items"
  }
}

trigger "list_items" {
  function = function.api
  http {
    api   = api.public
    route = "GET /items"
  }
}

trigger "get_item" {
  function = function.api
  http {
    api   = api.public
    route = "GET /items/{id}"
  }
}

trigger "delete_item" {
  function = function.api
  http {
    api        = api.public
    route      = "DELETE /items/{id}"
    authorizer = "users"           # a valid JWT with the scope below, or 401
    scopes     = ["items.delete"]
  }
}

output "api_url" {
  value       = api.public.url
  description = "base URL of the HTTP API"
}

output "table_name" {
  value = table.items.name
}
