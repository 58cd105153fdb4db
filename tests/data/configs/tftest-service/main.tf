# A service with its own terraform test files (tests/), written the way teams start with `terraform test`:
# fixed names, one secret, the managed execution policy plus an inline grant for the secret.
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 3.39"
    }
  }
}

provider "aws" {
  region = "us-east-1"
}

variable "grant_secret" {
  description = "Grant the execution role the task's secret (false: a grant for another secret, as a typo would)"
  type        = bool
  default     = true
}

resource "aws_secretsmanager_secret" "api_key" {
  name                    = "billing/api-key"
  recovery_window_in_days = 0
}

resource "aws_secretsmanager_secret_version" "api_key" {
  secret_id     = aws_secretsmanager_secret.api_key.id
  secret_string = "not-a-real-key"
}

resource "aws_cloudwatch_log_group" "billing" {
  name              = "/ecs/billing"
  retention_in_days = 7
}

resource "aws_iam_role" "execution" {
  name = "billing-execution"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
    }]
  })
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_iam_role_policy" "secrets" {
  name = "read-api-key"
  role = aws_iam_role.execution.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "ReadApiKey"
      Effect   = "Allow"
      Action   = ["secretsmanager:GetSecretValue"]
      Resource = [var.grant_secret ? aws_secretsmanager_secret.api_key.arn : "${aws_secretsmanager_secret.api_key.arn}-old"]
    }]
  })
}

resource "aws_ecs_task_definition" "billing" {
  family                   = "billing"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "256"
  memory                   = "512"
  execution_role_arn       = aws_iam_role.execution.arn
  container_definitions = jsonencode([{
    name      = "billing"
    image     = "public.ecr.aws/nginx/nginx:1.25"
    essential = true
    secrets   = [{ name = "API_KEY", valueFrom = aws_secretsmanager_secret.api_key.arn }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.billing.name
        awslogs-region        = "us-east-1"
        awslogs-stream-prefix = "billing"
      }
    }
  }])
}

output "family" {
  value = aws_ecs_task_definition.billing.family
}
