app "bad" {}

function "fn" {
  runtime       = "go"
  source        = "./src"
  log_retention = 10 # ERROR: Invalid value
}
