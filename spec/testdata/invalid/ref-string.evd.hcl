app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
}

api "web" {}

trigger "t" {
  function = "fn" # ERROR: Invalid reference
  http {
    api   = api.web
    route = "GET /"
  }
}
