app "bad" {}

queue "q" {
  visibility_timeout = "13h" # ERROR: Value out of range
}
