app "bad" {}

bucket "b" {
  name = "192.168.5.4" # ERROR: Invalid name
}
