app "bad" {}

variable "a" {
  default = 1
}

variable "a" { # ERROR: Duplicate variable block
  default = 2
}
