# A project split over files: blocks refer to each other across them.
app "multi" {}

variable "size" {
  default = 256
}
