# Probe: a variable whose value (given by the test in a --var-file) is larger than the harness's limit for one
# value (1 MiB, HARNESS_MAX_VARIABLE_BYTES); a 5 MB value used to end in gRPC's "received message larger than
# max" after init. The harness must refuse it by name before running Terraform.
variable "name_prefix" {
  type        = string
  description = "Prefix of every name (the harness gives a unique one)."
}

variable "payload" {
  type        = string
  description = "A large document."
}

resource "aws_ssm_parameter" "payload" {
  name  = "/${var.name_prefix}/payload"
  type  = "String"
  tier  = "Advanced"
  value = var.payload
}
