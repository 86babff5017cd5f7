app "bad" {}

table "t" {
  hash_key      = "id"
  range_key     = "id" # ERROR: Invalid key schema
  read_capacity = 5 # ERROR: Conflicting settings
  stream        = "all_images" # ERROR: Invalid value
}
