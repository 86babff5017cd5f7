app "bad" {}

bucket "b" {
  versioning = "on" # ERROR: Incorrect attribute value type
  lifecycle "tmp" {
    prefix       = "tmp/"
    expire_after = "12h" # ERROR: Value out of range
  }
  lifecycle "tmp" { # ERROR: Duplicate lifecycle block
    expire_after = "1d"
  }
  lifecycle "partial" {
    expire_after = "36h" # ERROR: Invalid duration
  }
  lifecycle "none" { # ERROR: Missing required argument
    prefix = "x/"
  }
}
