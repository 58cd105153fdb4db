# Probe: a user's own override file that points the AWS provider's STS endpoint at real AWS. Terraform merges
# zzz_override.tf after the harness's zz_harness_override.tf, so it would win; the harness must refuse it by name.
# https://developer.hashicorp.com/terraform/language/files/override
variable "name_prefix" {
  type        = string
  description = "Prefix of every name (the harness gives a unique one)."
}

provider "aws" {
  region = "us-east-1"
}

resource "aws_ssm_parameter" "named" {
  name  = "/${var.name_prefix}/user-override"
  type  = "String"
  value = "never applied"
}
