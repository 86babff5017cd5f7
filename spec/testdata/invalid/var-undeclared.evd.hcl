app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
  memory  = var.memroy # ERROR: Reference to undeclared input variable
}
