# The task definition is created, then the service fails: its cluster was never created (a typo'd name).
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 3.39"
    }
  }
}

resource "aws_iam_role" "execution" {
  name = "reports-execution"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_ecs_task_definition" "reports" {
  family                   = "reports"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "256"
  memory                   = "512"
  execution_role_arn       = aws_iam_role.execution.arn
  container_definitions = jsonencode([{
    name      = "reports"
    image     = "public.ecr.aws/docker/library/busybox:1.36"
    essential = true
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = "/ecs/reports"
        awslogs-region        = "us-east-1"
        awslogs-stream-prefix = "reports"
      }
    }
  }])
}

resource "aws_ecs_service" "reports" {
  name            = "reports"
  cluster         = "reprots"
  task_definition = aws_ecs_task_definition.reports.arn
  desired_count   = 1
  launch_type     = "FARGATE"
  network_configuration {
    subnets = ["subnet-00000000"]
  }
}
