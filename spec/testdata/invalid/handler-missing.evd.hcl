app "bad" {}

function "fn" { # ERROR: Missing handler
  runtime = "python3.12"
  source  = "./src"
}
