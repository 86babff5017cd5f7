function "a" {
  runtime = "go"
  source  = "../../src/hello"
  memory  = var.size
  environment = {
    B = function.b.arn
  }
}

function "b" {
  runtime = "go"
  source  = "../../src/hello"
  handler = "bootstrap" # WARNING: Handler is ignored
}
