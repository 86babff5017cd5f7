app "bad" {}

function "a" {
  runtime              = "provided.al2023"
  source               = "."
  layers               = ["deps:3"] # ERROR: Invalid layer
  reserved_concurrency = -1 # ERROR: Value out of range
  tracing              = "active" # ERROR: Incorrect attribute value type
  ephemeral_storage    = 256 # ERROR: Value out of range
  vpc {
    subnet_ids         = [] # ERROR: Invalid value
    security_group_ids = ["group-1"] # ERROR: Invalid value
  }
  vpc { # ERROR: Duplicate vpc block
    subnet_ids         = ["subnet-0123456789abcdef0"]
    security_group_ids = ["sg-0123456789abcdef0"]
  }
  url {
    auth = "public" # ERROR: Invalid value
  }
}

function "b" {
  runtime = "provided.al2023"
  source  = "."
  layers = [ # ERROR: Too many layers
    "arn:aws:lambda:us-east-1:123456789012:layer:a:1",
    "arn:aws:lambda:us-east-1:123456789012:layer:b:1",
    "arn:aws:lambda:us-east-1:123456789012:layer:c:1",
    "arn:aws:lambda:us-east-1:123456789012:layer:d:1",
    "arn:aws:lambda:us-east-1:123456789012:layer:e:1",
    "arn:aws:lambda:us-east-1:123456789012:layer:f:1",
  ]
}

output "b_url" {
  value = function.b.url # ERROR: Function has no URL
}
