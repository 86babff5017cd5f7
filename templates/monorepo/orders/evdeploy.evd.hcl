# The orders app: POST /orders → the "checkout" function, which puts an
# OrderPlaced event on core's bus. It reads the bus's name from core's state
# (app_outputs) and only adds what it needs: permission to put events on it.

app "__APP_NAME__-orders" {
  region = "us-east-1"
}

# core's outputs, as recorded by its last apply (same stage as this app).
app_outputs "core" {
  path = "../core"
}

# core's bus: made by core, used here. evdeploy never changes it from this app.
bus "core" {
  existing = app_outputs.core.bus_name
}

locals {
  # The source billing's rule matches on (see ../billing).
  event_source = "__APP_NAME__.orders"
}

api "public" {}

function "checkout" {
  runtime = "go"
  source  = "./functions/checkout"
  timeout = "10s"
  environment = {
    BUS_NAME     = bus.core.name
    EVENT_SOURCE = local.event_source
  }
  uses = [bus.core.put]
}

trigger "place_order" {
  function = function.checkout
  http {
    api   = api.public
    route = "POST /orders"
  }
}

output "api_url" {
  value       = api.public.url
  description = "POST an order to <api_url>/orders"
}
