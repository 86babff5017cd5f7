app "bad" {}

queue "q" {
  dead_letter {
    max_receives = 0 # ERROR: Value out of range
  }
}
