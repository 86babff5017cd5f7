# The core app: what the other apps of this monorepo share. It owns the
# "events" bus (the shop's event backbone) and the "ledger" table (one record
# per billed order), and publishes their names as outputs. The orders and
# billing apps read them through app_outputs "core" and use them as blocks made
# elsewhere (existing = ...): they add their own rules and grants, and never
# change the bus or the table themselves.

app "__APP_NAME__-core" {
  region = "us-east-1"
}

bus "events" {}

table "ledger" {
  hash_key = "order_id"
}

output "bus_name" {
  value       = bus.events.name
  description = "the shared event bus (orders puts OrderPlaced on it, billing reacts)"
}

output "table_name" {
  value       = table.ledger.name
  description = "the ledger table billing writes invoices to"
}
