app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
}

trigger "t" {
  function = function.fn
  event {
    pattern = { # ERROR: Invalid event pattern
      source = "shop"
    }
  }
}
