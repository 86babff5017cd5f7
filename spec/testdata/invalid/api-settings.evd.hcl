app "bad" {}

function "f" {
  runtime = "provided.al2023"
  source  = "."
}

api "web" {
  cors {
    allow_origins     = ["*"] # ERROR: Invalid CORS
    allow_methods     = ["GTE"] # ERROR: Invalid CORS
    allow_credentials = true
    max_age           = "2d" # ERROR: Value out of range
  }
  cors { # ERROR: Duplicate cors block
    allow_origins = ["shop.example.com"]
  }
  jwt "users" {
    issuer   = "http://issuer.example.com/" # ERROR: Invalid issuer
    audience = [] # ERROR: Invalid audience
  }
  jwt "users" { # ERROR: Duplicate jwt block
    issuer   = "https://issuer.example.com/"
    audience = ["a"]
  }
  jwt "nothing" { # ERROR: Missing required argument
    audience = ["a"]
  }
}

trigger "typo" {
  function = function.f
  http {
    api        = api.web
    route      = "GET /orders"
    authorizer = "user" # ERROR: Unknown authorizer
  }
}

trigger "scopes_alone" {
  function = function.f
  http {
    api    = api.web
    route  = "GET /items"
    scopes = ["items.read"] # ERROR: Scopes without an authorizer
  }
}
