app "bad" {}

function "fn" {
  name    = "a-function-name-that-is-much-longer-than-the-sixty-four-characters-lambda-allows" # ERROR: Invalid name
  runtime = "go"
  source  = "./src"
}
