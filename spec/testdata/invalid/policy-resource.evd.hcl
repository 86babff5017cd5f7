app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
  policy {
    effect    = "allow"
    actions   = ["s3:GetObject"]
    resources = ["my-bucket/*"] # ERROR: Invalid resource
  }
  policy {
    effect    = "Permit" # ERROR: Invalid value
    actions   = []       # ERROR: Invalid policy
    resources = ["*"]
  }
}
