app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src/main.go" # ERROR: Source is not a folder
}
