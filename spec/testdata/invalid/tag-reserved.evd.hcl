app "bad" {
  tags = {
    team              = "orders"
    "aws:cost-center" = "42" # ERROR: Invalid tag
  }
}
