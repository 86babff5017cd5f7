app "bad" {}

queue "q" {}

trigger "t" {
  function = queue.q # ERROR: Wrong kind of reference
  queue {
    queue = queue.q
  }
}
