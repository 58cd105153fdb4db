# Probe: a provisioner that connects straight to a port on 127.0.0.1, ignoring every proxy setting. Inside the
# harness's network namespace 127.0.0.1 is the namespace's own loopback, so a listener on the host's loopback
# (the test's) is out of reach. The test never names an address other than loopback.
# https://man7.org/linux/man-pages/man7/network_namespaces.7.html
variable "name_prefix" {
  type        = string
  description = "Prefix of every name (the harness gives a unique one)."
}

variable "port" {
  type        = number
  description = "The port of the test's listener on the host's loopback."
}

resource "terraform_data" "direct" {
  input = var.name_prefix

  provisioner "local-exec" {
    command = "curl --noproxy '*' --silent --show-error --fail --max-time 10 --output /dev/null http://127.0.0.1:${var.port}/${var.name_prefix}"
  }
}
