# The billing app: a rule on core's bus sends every OrderPlaced event from
# orders to the "invoicer" function, which writes the invoice into core's
# ledger table. Both the bus and the table are core's (app_outputs +
# existing): billing adds its own rule, target and grants, nothing else.

app "__APP_NAME__-billing" {
  region = "us-east-1"
}

app_outputs "core" {
  path = "../core"
}

bus "core" {
  existing = app_outputs.core.bus_name
}

table "ledger" {
  existing = app_outputs.core.table_name
}

function "invoicer" {
  runtime = "go"
  source  = "./functions/invoicer"
  timeout = "10s"
  environment = {
    LEDGER_TABLE = table.ledger.name
  }
  uses = [table.ledger.write]
}

# Every order placed through the orders app is billed.
trigger "bill_order" {
  function = function.invoicer
  event {
    bus = bus.core
    pattern = {
      source        = ["__APP_NAME__.orders"]
      "detail-type" = ["OrderPlaced"]
    }
  }
}

output "invoicer_function" {
  value = function.invoicer.name
}
