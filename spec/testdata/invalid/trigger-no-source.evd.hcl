app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
}

trigger "t" { # ERROR: Missing trigger source
  function = function.fn
}
