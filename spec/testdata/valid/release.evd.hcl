# Release blocks: canary, linear, all at once; alarms by name.
app "release" {}

variable "alarm" {
  default = "shared-errors"
}

function "canary" {
  runtime = "go"
  source  = "../src/hello"
  release {
    canary {
      percent = 10
      wait    = "5m"
    }
    alarms                  = ["api-errors", var.alarm]
    max_errors              = "1.5%"
    keep_versions           = 5
    provisioned_concurrency = 2
  }
}

function "linear" {
  runtime = "go"
  source  = "../src/hello"
  release {
    linear {
      percent = 25
      every   = "10s"
    }
  }
}

function "whole" {
  runtime = "go"
  source  = "../src/hello"
  environment = {
    CANARY = function.canary.live_arn
  }
  release {}
}
