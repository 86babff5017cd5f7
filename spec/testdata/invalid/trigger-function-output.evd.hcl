app "bad" {}

function "fn" {
  runtime = "go"
  source  = "./src"
}

output "o" {
  value = 1
}

trigger "t" {
  function = output.o # ERROR: Wrong kind of reference
  schedule {
    expression = "rate(1 day)"
  }
}
