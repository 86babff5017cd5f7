# Packaging settings: a TypeScript handler with esbuild options, one that
# bundles the AWS SDK too, and a Python function zipped as it is.
app "bundles" {}

function "ts" {
  runtime = "nodejs22.x"
  source  = "../src/ts"
  handler = "index.handler"
  bundle {
    external  = ["@aws-sdk/*", "sharp"]
    sourcemap = true
  }
}

function "all_in" {
  runtime = "nodejs20.x"
  source  = "../src/ts"
  handler = "index.handler"
  bundle {
    external = []
  }
}

function "defaults" {
  runtime = "nodejs20.x"
  source  = "../src/ts"
  handler = "index.handler"
  bundle  = true
}

function "vendored" {
  runtime = "python3.12"
  source  = "../src/hello"
  handler = "app.main"
  bundle  = false
}
