app "bad" {}

function "fn" {
  runtime = "nodejs20.x"
  source  = "./src"
  handler = "index" # ERROR: Invalid handler
}
