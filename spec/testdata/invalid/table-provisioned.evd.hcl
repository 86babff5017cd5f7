app "bad" {}

table "t" {
  hash_key     = "id"
  billing_mode = "PROVISIONED" # ERROR: Missing capacity
  read_capacity = 5
}
