# ERROR: Missing app block
queue "orders" {}
