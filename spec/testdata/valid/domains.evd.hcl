app "dom" {}

function "api" {
  runtime = "provided.al2023"
  source  = "."
}

api "public" {
  domain {
    name      = "API.Example.com."
    zone      = "example.com"
    base_path = "/v1/"
  }
}

api "admin" {
  domain {
    name        = "api.example.com"
    zone        = "example.com"
    base_path   = "admin"
  }
}

api "apex" {
  domain {
    name        = "shop.example.org"
    zone        = "shop.example.org"
    certificate = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666"
  }
}

trigger "get" {
  function = function.api
  http {
    api   = api.public
    route = "GET /orders"
  }
}

output "url" {
  value = api.public.url
}

output "target" {
  value = api.public.domain_target
}
