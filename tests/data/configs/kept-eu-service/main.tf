# A team's service pinned to its own account and region: allowed_account_ids makes the provider refuse any other
# account, and the region is eu-west-1. Kept with --keep, its task definition is read where it was deployed.
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 3.39"
    }
  }
}

provider "aws" {
  region              = "eu-west-1"
  allowed_account_ids = ["271828182845"]
}

resource "aws_iam_role" "execution" {
  name = "kept-eu-web-execution"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EcsTasksAssume"
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "execution" {
  name = "write-logs"
  role = aws_iam_role.execution.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "WriteLogs"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = "${aws_cloudwatch_log_group.web.arn}:*"
    }]
  })
}

resource "aws_cloudwatch_log_group" "web" {
  name              = "/ecs/kept-eu-web"
  retention_in_days = 7
}

resource "aws_ecs_task_definition" "web" {
  family                   = "kept-eu-web"
  execution_role_arn       = aws_iam_role.execution.arn
  network_mode             = "awsvpc"
  requires_compatibilities = ["FARGATE"]
  cpu                      = "256"
  memory                   = "512"
  container_definitions = jsonencode([{
    name      = "web"
    image     = "nginx:1.27"
    essential = true
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.web.name
        awslogs-region        = "eu-west-1"
        awslogs-stream-prefix = "web"
      }
    }
  }])
}

output "task_definition_arn" {
  description = "The task definition the inspect command lists."
  value       = try(aws_ecs_task_definition.web.arn, null)
}
