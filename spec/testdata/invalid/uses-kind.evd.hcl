app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
  uses    = [api.web.invoke] # ERROR: Invalid capability
}

api "web" {}
