app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
}

stream "s" {}

trigger "t" {
  function = function.fn
  kinesis {
    stream            = stream.s
    starting_position = "at_timestamp" # ERROR: Invalid value
  }
}
