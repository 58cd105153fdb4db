# Probe: a provisioner that asks for a host other than the emulator from a process whose working folder is
# outside the run's folder (working_dir = "/"). It goes through the harness's proxy variables (loopback only);
# the network guard refuses it, and the run must fail with exit 2 wherever the process ran.
# https://developer.hashicorp.com/terraform/language/resources/provisioners/local-exec
variable "name_prefix" {
  type        = string
  description = "Prefix of every name (the harness gives a unique one)."
}

resource "terraform_data" "phone_home" {
  input = var.name_prefix

  provisioner "local-exec" {
    working_dir = "/"
    command     = "curl --silent --show-error --max-time 10 --output /dev/null http://sts.us-east-1.amazonaws.com/"
  }
}
