# A service and its image registry, written the way cross-account ECR tutorials write them: the repository
# policy names the execution role by ARN in the ECS account, and that account is a variable
# (var.ecs_account_id) rather than a literal. The role is the one this configuration creates, so the
# configuration is telling where it deploys: in that account. The image is pushed later by a pipeline.
# https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policy-examples.html
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

resource "aws_iam_role" "task_execution" {
  name = "orders-task-execution"
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

resource "aws_iam_role_policy_attachment" "task_execution" {
  role       = aws_iam_role.task_execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_cloudwatch_log_group" "web" {
  name              = "/ecs/orders-web"
  retention_in_days = 14
}

resource "aws_ecr_repository" "web" {
  name = "orders-web"
}

resource "aws_ecr_repository_policy" "web" {
  repository = aws_ecr_repository.web.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EcsAccountPull"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${var.ecs_account_id}:role/orders-task-execution" }
      Action    = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    }]
  })
  depends_on = [aws_iam_role.task_execution]
}

resource "aws_ecs_task_definition" "web" {
  family                   = "orders-web"
  execution_role_arn       = aws_iam_role.task_execution.arn
  network_mode             = "awsvpc"
  requires_compatibilities = ["FARGATE"]
  cpu                      = "256"
  memory                   = "512"
  container_definitions = jsonencode([{
    name      = "web"
    image     = "${aws_ecr_repository.web.repository_url}:1.4.2"
    essential = true
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.web.name
        awslogs-region        = var.region
        awslogs-stream-prefix = "web"
      }
    }
  }])
}
