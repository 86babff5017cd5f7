app "bad" {}

bucket "b" {
  tags = { for i in range(51) : "k${i}" => "v" } # ERROR: Too many tags
}
