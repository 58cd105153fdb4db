# Probe: a sensitive variable whose value comes from the configuration's own secrets.auto.tfvars and that the
# AWS provider echoes in a validation error ("expected type to be one of [...], got <value>").
# https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html (Type: String |
# StringList | SecureString)
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

variable "name_prefix" {
  type        = string
  description = "Prefix of every name (the harness gives a unique one)."
}

variable "parameter_type" {
  type        = string
  description = "The parameter's type; secrets.auto.tfvars sets it to a secret, which the provider refuses."
  sensitive   = true
}

resource "aws_ssm_parameter" "echo" {
  name  = "/${var.name_prefix}/echo"
  type  = var.parameter_type
  value = "not-a-secret"
}
