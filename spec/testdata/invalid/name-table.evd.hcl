app "bad" {}

table "t" {
  name     = "ab" # ERROR: Invalid name
  hash_key = "id"
}
