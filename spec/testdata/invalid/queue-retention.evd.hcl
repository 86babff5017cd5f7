app "bad" {}

queue "q" {
  retention = "30s" # ERROR: Value out of range
}
