app "bad" {}

queue "q" {
  delay = "16m" # ERROR: Value out of range
}
