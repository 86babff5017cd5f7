# A database trigger: the "orders" table (the producer) publishes every change
# on its stream; Lambda polls the stream (the router) and hands batches to the
# "audit" function (the consumer), which writes one audit record per change to
# a second table. The audit record's key is the stream event id, so a retried
# batch rewrites the same records instead of duplicating them.

app "__APP_NAME__" {
  region = "us-east-1"
}

function "audit" {
  runtime = "go"
  source  = "./functions/audit"
  timeout = "30s"
  environment = {
    AUDIT_TABLE = table.audit.name
  }
  uses = [table.audit.write]
}

table "orders" {
  hash_key = "order_id"
  stream   = "new_and_old_images"
}

table "audit" {
  hash_key = "event_id"
}

trigger "order_changes" {
  function = function.audit
  dynamodb {
    table             = table.orders
    starting_position = "latest"
    batch_size        = 100
  }
}

output "orders_table" {
  value = table.orders.name
}

output "audit_table" {
  value = table.audit.name
}
