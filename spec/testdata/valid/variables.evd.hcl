# Variables, locals and functions: defaults, EVDEPLOY_VAR_owner (set to "ci"
# by the test), stage from --stage, cty's standard library, env() and file().
app "vars" {
  region = "eu-west-1"
  tags = merge(local.common_tags, {
    owner = var.owner
  })
}

variable "stage" {
  default = "prod"
}

variable "owner" {
  type    = string
  default = "nobody"
}

variable "memory" {
  type    = number
  default = 512
}

variable "routes" {
  type    = list(string)
  default = ["GET /items", "POST /items"]
}

locals {
  common_tags = {
    stage = var.stage
    team  = env("SHOP_TEAM")
    zone  = env("NOT_SET_ANYWHERE", "default-zone")
  }
  prefix  = upper(format("%s-%s", "vars", var.stage))
  doubled = local.half * 2
  half    = var.memory / 2
  config  = jsondecode(file("payload.json"))
  queue   = queue.jobs.url
}

function "handler" {
  runtime     = "provided.al2023"
  source      = "../src/hello"
  memory      = local.doubled
  timeout     = "1m30s"
  environment = {
    PREFIX    = local.prefix
    GREETING  = local.config.greeting
    QUEUE     = local.queue
    QUEUE_ARN = queue.jobs.arn
    ROUTES    = join(",", var.routes)
    COUNT     = length(var.routes)
    LOWER     = lower(replace("A-B-C", "-", "_"))
    JSON      = jsonencode({ a = 1, b = [true] })
  }
  uses = [queue.jobs.consume]
}

queue "jobs" {
  visibility_timeout = "2m"
}

api "public" {}

trigger "items" {
  function = function.handler
  http {
    api   = api.public
    route = var.routes[0]
  }
}

trigger "jobs" {
  function = function.handler
  queue {
    queue = queue.jobs
  }
}

output "queue_url" {
  value       = local.queue
  description = "Where jobs go"
}

output "routes" {
  value = { for r in var.routes : r => upper(r) }
}
