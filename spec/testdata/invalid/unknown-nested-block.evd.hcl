app "bad" {}

queue "orders" {
  dead_leter { # ERROR: Unsupported block type
    max_receives = 3
  }
}
