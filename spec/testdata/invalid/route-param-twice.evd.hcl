app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
}

api "web" {}

trigger "t" {
  function = function.fn
  http {
    api   = api.web
    route = "GET /{id}/x/{id}" # ERROR: Invalid route
  }
}
