app "bad" {}

function "both" {
  runtime = "nodejs20.x"
  source  = "./src"
  handler = "index.handler" # WARNING: Handler file not found
  bundle  = false
  bundle { # ERROR: Duplicate bundle settings
    sourcemap = true
  }
}

function "py" {
  runtime = "python3.12"
  source  = "./src"
  handler = "main.handler" # WARNING: Handler file not found
  bundle { # ERROR: Bundle block needs a Node runtime
    external = []
  }
}

function "gofn" {
  runtime = "go"
  source  = "./src"
  bundle  = false # ERROR: Bundle does not apply
}

function "ext" {
  runtime = "nodejs22.x"
  source  = "./src"
  handler = "index.handler" # WARNING: Handler file not found
  bundle {
    external  = ["@aws-sdk/*", "a*b*"] # ERROR: Invalid external module
    sourcemap = "yes" # ERROR: Incorrect attribute value type
  }
}

function "twice" {
  runtime = "nodejs22.x"
  source  = "./src"
  handler = "index.handler" # WARNING: Handler file not found
  bundle {}
  bundle {} # ERROR: Duplicate bundle block
}
