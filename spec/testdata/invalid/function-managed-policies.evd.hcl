app "bad" {}

function "fn" {
  runtime          = "go"
  source           = "./src"
  managed_policies = ["AWSLambdaBasicExecutionRole"] # ERROR: Invalid managed policy
}

function "twice" {
  runtime          = "go"
  source           = "./src"
  managed_policies = ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess"] # ERROR: Duplicate managed policy
}
