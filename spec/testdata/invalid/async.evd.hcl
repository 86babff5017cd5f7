app "bad" {}

table "t" { hash_key = "id" }
queue "ordered" { fifo = true }

function "fn" {
  runtime = "go"
  source  = "./src"
  async {
    retries    = 3 # ERROR: Value out of range
    max_age    = "30s" # ERROR: Value out of range
    on_failure = table.t # ERROR: Wrong kind of reference
  }
  async {} # ERROR: Duplicate async block
}

function "fifo" {
  runtime = "go"
  source  = "./src"
  async { # ERROR: FIFO destination not supported
    on_success = queue.ordered
  }
}
