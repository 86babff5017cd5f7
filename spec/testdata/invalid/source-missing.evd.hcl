app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./functions/nope" # ERROR: Source folder not found
}
