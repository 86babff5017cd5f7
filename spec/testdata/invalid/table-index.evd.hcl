app "bad" {}

table "t" {
  hash_key = "id"
  attribute "customer" {
    type = "N"
  }
  attribute "unused" { # ERROR: Attribute is not a key
    type = "S"
  }
  index "by_customer" {
    hash_key   = "customer"
    range_key  = "customer" # ERROR: Invalid key schema
    projection = "everything" # ERROR: Invalid value
  }
  index "by_customer" { # ERROR: Duplicate index block
    hash_key = "customer"
  }
  index "ab" { # ERROR: Invalid index name
    hash_key   = "x"
    projection = [] # ERROR: Invalid value
  }
  index "twice" {
    hash_key   = "x"
    projection = ["a", "a"] # ERROR: Invalid value
  }
  index "number" {
    hash_key   = "x"
    projection = 3 # ERROR: Invalid value
  }
  index "nokey" { # ERROR: Missing required argument
  }
  point_in_time_recovery = "yes please" # ERROR: Incorrect attribute value type
}
