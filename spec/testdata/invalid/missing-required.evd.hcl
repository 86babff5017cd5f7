app "bad" {}

function "fn" { # ERROR: Missing required argument
  runtime = "go"
}
