app "bad" {
  region = "us-east" # ERROR: Invalid region
}
