app "bad" {}

stream "s" {
  on_demand = true
  shards    = 2 # ERROR: Conflicting settings
  retention = "36h30m" # ERROR: Invalid value
}
