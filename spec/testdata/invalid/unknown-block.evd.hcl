app "bad" {}

queu "orders" {} # ERROR: Unsupported block type
