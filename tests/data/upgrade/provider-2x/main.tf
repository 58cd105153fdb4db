# Fixture for provider upgrades: a minimal execution role and log group written for AWS provider
# 2.70 and later, so the same configuration can be applied with 2.70.0 and planned with 3.39.0.
# trimsuffix: provider 2.x exports log group ARNs ending in ":*", 3.x without (the upgrade check caught it).
provider "aws" {
  region = var.region
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/ecs/${var.name_prefix}-app"
  retention_in_days = 14
  tags              = var.tags
}

resource "aws_iam_role" "this" {
  name = "${var.name_prefix}-app-execution"
  tags = var.tags

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "ECSTasksAssumeRole"
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "this" {
  name = "execution-access"
  role = aws_iam_role.this.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "WriteLogs"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = ["${trimsuffix(aws_cloudwatch_log_group.this.arn, ":*")}:*"]
    }]
  })
}
