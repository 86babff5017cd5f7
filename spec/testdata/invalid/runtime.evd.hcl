app "bad" {}

function "fn" {
  runtime = "python2.7" # ERROR: Unsupported runtime
  source  = "./src"
  handler = "main.handler"
}
