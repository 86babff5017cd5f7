app "bad" {}

queu "orders" {} # ERROR: Unsupported block type

function "fn" {
  runtime = "go"
  source  = "./src"
  memory  = 1 # ERROR: Value out of range
}
