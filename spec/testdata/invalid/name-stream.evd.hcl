app "bad" {}

stream "s" {
  name = "clicks:raw" # ERROR: Invalid name
}
