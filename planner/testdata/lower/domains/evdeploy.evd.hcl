# APIs on their own domains: one with a certificate evdeploy requests and
# validates through DNS, at base path v1; one on a certificate that exists.
app "domains" {
  region = "us-east-1"
}

variable "base_path" {
  default = "v1"
}

variable "admin_certificate" {
  description = "an existing ACM certificate for admin.example.com"
  default     = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666"
}

function "hello" {
  runtime = "python3.12"
  source  = "./functions/hello"
  handler = "main.handler"
}

api "public" {
  domain {
    name      = "api.example.com"
    zone      = "example.com"
    base_path = var.base_path
  }
}

api "admin" {
  domain {
    name        = "admin.example.com"
    zone        = "example.com"
    certificate = var.admin_certificate
  }
}

trigger "hello" {
  function = function.hello
  http {
    api   = api.public
    route = "GET /hello"
  }
}

trigger "admin_hello" {
  function = function.hello
  http {
    api   = api.admin
    route = "GET /hello"
  }
}

output "url" {
  value = api.public.url
}

output "admin_url" {
  value = api.admin.url
}

output "target" {
  value = api.public.domain_target
}
