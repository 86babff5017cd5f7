app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
  policy {
    actions   = ["GetObject"] # ERROR: Invalid IAM action
    resources = ["*"]
  }
}
