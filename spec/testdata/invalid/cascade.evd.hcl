# One mistake, one error: what reads a broken variable or local is not
# reported again.
app "bad" {
  tags = { owner = local.owner }
}

variable "memory" {} # ERROR: No value for required variable

variable "size" {
  type    = number
  default = "big" # ERROR: Invalid default value
}

locals {
  owner = uppr("me") # ERROR: Call to unknown function
  tags  = { owner = local.owner }
  a     = local.b # ERROR: Cycle in local values
  b     = local.a
}

function "fn" {
  runtime = "go"
  source  = "./src"
  memory  = var.memory
  timeout = "${var.size}s"
  tags    = local.tags
  environment = {
    A = local.a
  }
}
