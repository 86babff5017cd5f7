app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
  memroy  = 256 # ERROR: Unsupported argument
}
