# The image lives in a shared registry account; an aliased provider without its own region reaches it
# by assuming a role there. The repository policy lets the service's execution role pull.
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

provider "aws" {
  alias = "registry"
  assume_role {
    role_arn = var.registry_role_arn
  }
}

resource "aws_ecr_repository" "shared" {
  provider = aws.registry
  name     = "platform/catalog"
}

resource "aws_ecr_repository_policy" "shared" {
  provider   = aws.registry
  repository = aws_ecr_repository.shared.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AllowCatalogPull"
      Effect    = "Allow"
      Principal = { AWS = aws_iam_role.execution.arn }
      Action    = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
    }]
  })
}

resource "aws_cloudwatch_log_group" "catalog" {
  name = "/ecs/catalog"
}

resource "aws_iam_role" "execution" {
  name = "catalog-execution"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_ecs_task_definition" "catalog" {
  family                   = "catalog"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "256"
  memory                   = "512"
  execution_role_arn       = aws_iam_role.execution.arn
  container_definitions = jsonencode([{
    name      = "catalog"
    image     = "${aws_ecr_repository.shared.repository_url}:2.0.1"
    essential = true
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.catalog.name
        awslogs-region        = "us-east-1"
        awslogs-stream-prefix = "catalog"
      }
    }
  }])
}
