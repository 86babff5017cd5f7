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
  queue {
    queue = table.orders # ERROR: Wrong kind of reference
  }
}
