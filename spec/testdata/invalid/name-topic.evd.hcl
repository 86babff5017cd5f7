app "bad" {}

topic "t" {
  name = "alerts!" # ERROR: Invalid name
}
