# A team's folder whose committed .terraform.lock.hcl pins hashicorp/aws 5.31.0 (init ran online), while its
# constraint admits 3.x: offline, the mirror (2.70.0, 3.39.0) lacks the locked version.
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 3.0"
    }
  }
}

resource "aws_iam_role" "execution" {
  name_prefix = "locked-"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EcsTasks"
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
    }]
  })
}
