app "bad" {}

table "t" {
  hash_key = ["id"] # ERROR: Incorrect attribute value type
  range_key = "" # ERROR: Invalid value
}
