app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
  uses    = [table.orders.write] # ERROR: Reference to undeclared table
}
