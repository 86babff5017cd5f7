app "bad" {}

variable "size" {
  type    = number
  default = "big" # ERROR: Invalid default value
}
