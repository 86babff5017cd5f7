app "bad" {}

queue "q" {
  delay = true # ERROR: Invalid duration
}
