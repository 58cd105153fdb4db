# Asks for the AWS provider 5.x, which the offline mirror does not hold (it has 2.70.0 and 3.39.0).
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.0" }
  }
}
resource "aws_iam_role" "r" {
  name               = "r"
  assume_role_policy = "{}"
}
