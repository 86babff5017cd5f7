app "bad" {}

function "a" {
  runtime = "go"
  source  = "./src"
  reserved_concurrency = 2
  release {
    canary { # ERROR: Missing required argument
      percent = 10
    }
    linear { # ERROR: Conflicting release strategies
      percent = 10
      every   = "1m"
    }
    max_errors              = "5" # ERROR: Invalid percentage
    keep_versions           = -1 # ERROR: Value out of range
    provisioned_concurrency = 3 # ERROR: Value out of range
    alarms                  = [alarm.nope] # ERROR: Reference to undeclared alarm
  }
  release {} # ERROR: Duplicate release block
}

function "b" {
  runtime = "go"
  source  = "./src"
  release {
    canary {
      percent = 100 # ERROR: Value out of range
      wait    = "2h" # ERROR: Value out of range
    }
    max_errors = "150%" # ERROR: Value out of range
    alarms     = [3] # ERROR: Invalid alarm
  }
}

function "c" {
  runtime = "go"
  source  = "./src"
  environment = {
    OTHER = function.b.live_arn
    MINE  = function.d.live_arn # ERROR: Function has no release
  }
}

function "d" {
  runtime = "go"
  source  = "./src"
}
