# SSM SecureString parameters under a customer managed key; the execution role can read the parameters
# but nobody granted it kms:Decrypt on the key.
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 3.39"
    }
  }
}

provider "aws" {
  region = var.region
}

data "aws_caller_identity" "current" {}

resource "aws_kms_key" "params" {
  description             = "billing parameters"
  deletion_window_in_days = 7
}

resource "aws_kms_alias" "params" {
  name          = "alias/billing-params"
  target_key_id = aws_kms_key.params.key_id
}

resource "aws_ssm_parameter" "db_url" {
  name   = "/billing/db-url"
  type   = "SecureString"
  key_id = aws_kms_key.params.arn
  value  = "postgres://billing@db.internal:5432/billing"
}

resource "aws_ssm_parameter" "feature_flags" {
  name  = "/billing/feature-flags"
  type  = "String"
  value = "invoices=on"
}

resource "aws_cloudwatch_log_group" "billing" {
  name = "/ecs/billing"
}

resource "aws_iam_role" "execution" {
  name = "billing-execution"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
    }]
  })
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_iam_role_policy" "parameters" {
  name = "parameters"
  role = aws_iam_role.execution.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["ssm:GetParameters"]
      Resource = [aws_ssm_parameter.db_url.arn, aws_ssm_parameter.feature_flags.arn]
    }]
  })
}

resource "aws_ecs_task_definition" "billing" {
  family                   = "billing"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "512"
  memory                   = "1024"
  execution_role_arn       = aws_iam_role.execution.arn
  container_definitions = jsonencode([{
    name      = "billing"
    image     = "public.ecr.aws/docker/library/python:3.12-slim"
    essential = true
    secrets = [
      { name = "DB_URL", valueFrom = aws_ssm_parameter.db_url.arn },
      { name = "FLAGS", valueFrom = aws_ssm_parameter.feature_flags.name },
    ]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.billing.name
        awslogs-region        = var.region
        awslogs-stream-prefix = "billing"
      }
    }
  }])
}
