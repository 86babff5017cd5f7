app "bad" {}

layer "a" {
  source   = "./layers/nope" # ERROR: Source folder not found
  runtimes = ["python3.12"]
}

layer "b" {
  source   = "./src"
  runtimes = ["go"] # ERROR: Unsupported runtime
}

layer "c" {
  source   = "./src/main.go" # ERROR: Source is not a folder
  runtimes = ["python3.12"]
}

layer "d" {
  source   = "./src"
  runtimes = [] # ERROR: Invalid value
}

function "undeclared" {
  runtime = "go"
  source  = "./src"
  layers  = [layer.nope.arn] # ERROR: Reference to undeclared layer
}

function "attribute" {
  runtime = "go"
  source  = "./src"
  layers  = [layer.d.name] # ERROR: Unsupported attribute
}

function "twice" {
  runtime = "go"
  source  = "./src"
  layers  = [layer.b.arn, layer.b.arn] # ERROR: Invalid layer
}

function "mixed" {
  runtime = "go"
  source  = "./src"
  layers  = [layer.d.arn, "deps:3"] # ERROR: Invalid layer
}
