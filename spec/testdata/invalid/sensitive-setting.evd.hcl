app "bad" {}

variable "secret" {
  default   = "hunter2hunter2"
  sensitive = true
}

queue "q" {
  name = "q-${var.secret}" # ERROR: Sensitive value not allowed here
}

function "fn" {
  runtime = "go"
  source  = "./src"
  memory  = sensitive(256) # ERROR: Sensitive value not allowed here
  environment = {
    PASSWORD = var.secret
    TOKEN    = sensitive("abc")
  }
}

output "pw" {
  value = var.secret
}
