app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
  environment = {
    NAME = uppr("x") # ERROR: Call to unknown function
  }
}
