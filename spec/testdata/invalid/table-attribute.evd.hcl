app "bad" {}

table "t" {
  hash_key = "id"
  attribute "name" { # ERROR: Attribute is not a key
    type = "S"
  }
}
