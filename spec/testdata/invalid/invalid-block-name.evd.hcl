app "bad" {}

queue "my orders" {} # ERROR: Invalid block name
