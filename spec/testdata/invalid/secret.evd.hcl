app "bad" {}

secret "key" {
  value = "sk_live_123" # ERROR: A secret's value cannot be written in the spec
}

secret "store" {
  store = "vault" # ERROR: Invalid value
}

secret "ext" {
  existing = "arn:aws:s3:::bucket" # ERROR: Invalid existing secret
}

secret "ext2" {
  existing    = "arn:aws:ssm:us-east-1:123456789012:parameter/prod/key"
  description = "made elsewhere" # ERROR: Conflicting settings
}

secret "kms" {
  kms_key = "alias/mine" # ERROR: Invalid kms_key
}
