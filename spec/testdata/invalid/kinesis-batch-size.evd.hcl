app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
}

stream "s" {}

trigger "t" {
  function = function.fn
  kinesis {
    stream     = stream.s
    batch_size = 0 # ERROR: Value out of range
  }
}
