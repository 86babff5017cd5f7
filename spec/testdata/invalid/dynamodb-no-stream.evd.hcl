app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
}

table "orders" {
  hash_key = "id"
}

trigger "t" {
  function = function.fn
  dynamodb { # ERROR: Table has no stream
    table = table.orders
  }
}
