app "bad" {}

variable "token" {} # ERROR: No value for required variable
