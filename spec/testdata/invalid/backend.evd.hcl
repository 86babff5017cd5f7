app "bad" {
  region = "us-east-1"
  backend "s3" {
    bucket = "State_Bucket" # ERROR: Invalid bucket name
    key    = "state.json"
  }
  backend "gcs" { # ERROR: Duplicate backend block
    bucket = "x"
  }
}
