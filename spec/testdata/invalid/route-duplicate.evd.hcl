app "bad" {}

function "a" {
  runtime = "go"
  source  = "./src"
}

function "b" {
  runtime = "go"
  source  = "./src"
}

api "web" {}

trigger "a" {
  function = function.a
  http {
    api   = api.web
    route = "GET /items"
  }
}

trigger "b" {
  function = function.b
  http { # ERROR: Duplicate route
    api   = api.web
    route = "GET /items"
  }
}
