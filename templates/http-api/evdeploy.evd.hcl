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

table "items" {
  hash_key = "id"
}

api "public" {}

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
    api   = api.public
    route = "DELETE /items/{id}"
  }
}

output "api_url" {
  value       = api.public.url
  description = "base URL of the HTTP API"
}

output "table_name" {
  value = table.items.name
}
