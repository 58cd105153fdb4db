# Probe: a configuration that plans more resources than an emulator run allows (1,000 by default,
# HARNESS_MAX_RESOURCES). The harness must refuse it after the plan and before anything is created.
variable "name_prefix" {
  type        = string
  description = "Prefix of every name (the harness gives a unique one)."
}

variable "copies" {
  type        = number
  description = "How many parameters to create."
  default     = 1001
}

resource "aws_ssm_parameter" "many" {
  count = var.copies
  name  = "/${var.name_prefix}/many/${count.index}"
  type  = "String"
  value = "copy ${count.index}"
}
