app "bad" {}

api "outside" {
  domain {
    name = "api.example.org" # ERROR: Domain outside its zone
    zone = "example.com"
  }
}

api "bad_names" {
  domain {
    name        = "-api.example.com" # ERROR: Invalid domain name
    zone        = "com" # ERROR: Invalid zone
    certificate = "arn:aws:iam::123456789012:role/x" # ERROR: Invalid certificate
    base_path   = "v 1" # ERROR: Invalid base path
  }
}

api "first" {
  domain {
    name      = "api.example.com"
    zone      = "example.com"
    base_path = "v1"
  }
}

api "second" {
  domain {
    name      = "api.example.com" # ERROR: Duplicate domain
    zone      = "example.com"
    base_path = "v1"
  }
  domain { # ERROR: Duplicate domain block
    name = "other.example.com"
    zone = "example.com"
  }
}

api "third" {
  domain { # ERROR: Conflicting domain
    name      = "api.example.com"
    zone      = "api.example.com"
    base_path = "v2"
  }
}

api "plain" {}

output "t" {
  value = api.plain.domain_target # ERROR: API has no domain
}
