app "bad" {}

function "fn" {
  runtime     = "go"
  source      = "./src"
  environment = ["A=1"] # ERROR: Incorrect attribute value type
}
