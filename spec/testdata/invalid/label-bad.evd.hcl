app "bad" {}

function "9lives" { # ERROR: Invalid block name
  runtime = "go"
  source  = "./src"
}
