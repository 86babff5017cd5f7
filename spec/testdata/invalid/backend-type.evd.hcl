app "bad" {
  backend "consul" { # ERROR: Unsupported backend
    path = "x"
  }
}
