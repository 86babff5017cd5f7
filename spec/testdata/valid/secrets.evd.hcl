app "vault" {}

secret "stripe_key" {
  description = "Stripe API key"
}

secret "db" {
  store   = "secretsmanager"
  kms_key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
}

secret "legacy" {
  existing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"
}

function "api" {
  runtime     = "go"
  source      = "./functions/api"
  uses        = [secret.stripe_key.read, secret.db.read, secret.legacy.read]
  environment = { STRIPE_KEY_NAME = secret.stripe_key.name, DB_ARN = secret.db.arn, LEGACY = secret.legacy.name }
}
