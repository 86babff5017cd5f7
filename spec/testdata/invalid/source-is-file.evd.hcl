app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src/README" # ERROR: Source is not a folder
}
