# Probe: the AWS provider required under another local name. The harness must redirect `provider "amazon"`
# as it redirects `provider "aws"`: matched by source address, not by name.
# https://developer.hashicorp.com/terraform/language/providers/requirements#local-names
terraform {
  required_providers {
    amazon = {
      source = "hashicorp/aws"
    }
  }
}

variable "name_prefix" {
  type        = string
  description = "Prefix of every name (the harness gives a unique one)."
}

provider "amazon" {
  region = "us-east-1"
}

resource "aws_ssm_parameter" "named" {
  provider = amazon
  name     = "/${var.name_prefix}/local-name"
  type     = "String"
  value    = "reached the emulator"
}
