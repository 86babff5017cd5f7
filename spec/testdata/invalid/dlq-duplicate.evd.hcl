app "bad" {}

queue "q" {
  dead_letter {
    max_receives = 3
  }
  dead_letter { # ERROR: Duplicate dead_letter block
    max_receives = 4
  }
}
