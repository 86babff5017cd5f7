app "lay" {}

# A layer evdeploy packages and publishes, read by a function next to a
# literal layer version ARN (order kept).
layer "deps" {
  source   = "./layers/deps"
  runtimes = ["python3.13", "python3.12"]
}

function "api" {
  runtime = "python3.12"
  source  = "./fn"
  handler = "main.handler"
  layers  = ["arn:aws:lambda:us-east-1:123456789012:layer:shared:4", layer.deps.arn]
}
