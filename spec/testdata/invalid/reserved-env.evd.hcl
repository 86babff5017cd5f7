app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
  environment = {
    AWS_REGION = "us-east-1" # ERROR: Reserved environment variable
  }
}
