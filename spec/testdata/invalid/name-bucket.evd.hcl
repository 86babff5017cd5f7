app "bad" {}

bucket "b" {
  name = "My_Bucket" # ERROR: Invalid name
}
