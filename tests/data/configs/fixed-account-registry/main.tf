# A fixed-name service whose configuration names its own account by ID: the repository policy grants
# pull to the execution role by its ARN in account 111122223333, and the image is in that account's
# registry (pushed by a pipeline after the infrastructure).
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

resource "aws_iam_role" "execution" {
  name = "ecs-task-execution-role"
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
  name = "logs-and-registry-login"
  role = aws_iam_role.execution.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "WriteLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "${aws_cloudwatch_log_group.app.arn}:*"
      },
      {
        Sid      = "RegistryLogin"
        Effect   = "Allow"
        Action   = "ecr:GetAuthorizationToken"
        Resource = "*"
      },
    ]
  })
}

resource "aws_cloudwatch_log_group" "app" {
  name = "/ecs/orders-api"
}

resource "aws_ecr_repository" "app" {
  name = "orders-api"
}

resource "aws_ecr_repository_policy" "app" {
  repository = aws_ecr_repository.app.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "ExecutionRolePull"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::111122223333:role/ecs-task-execution-role" }
      Action    = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    }]
  })
  depends_on = [aws_iam_role.execution]
}

resource "aws_ecs_task_definition" "app" {
  family                   = "orders-api"
  execution_role_arn       = aws_iam_role.execution.arn
  network_mode             = "awsvpc"
  requires_compatibilities = ["FARGATE"]
  cpu                      = "256"
  memory                   = "512"
  container_definitions = jsonencode([{
    name      = "orders-api"
    image     = "111122223333.dkr.ecr.us-east-1.amazonaws.com/orders-api:1.0.0"
    essential = true
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.app.name
        awslogs-region        = "us-east-1"
        awslogs-stream-prefix = "api"
      }
    }
  }])
}
