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

resource "aws_ecr_repository" "catalog" {
  name = "catalog"
}

resource "aws_secretsmanager_secret" "search_token" {
  name = "catalog/search-token"
}

resource "aws_cloudwatch_log_group" "catalog" {
  name              = "/ecs/catalog"
  retention_in_days = 14
}

module "roles" {
  source      = "../../modules/service-roles"
  service     = "catalog"
  secret_arns = var.grant_secrets ? [aws_secretsmanager_secret.search_token.arn] : []
}

resource "aws_iam_role_policy" "pull" {
  name = "pull-catalog"
  role = "catalog-execution"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "PullCatalog"
      Effect   = "Allow"
      Action   = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
      Resource = aws_ecr_repository.catalog.arn
    }]
  })
  depends_on = [module.roles]
}

resource "aws_ecs_task_definition" "catalog" {
  family                   = "catalog"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "256"
  memory                   = "512"
  execution_role_arn       = module.roles.execution_role_arn
  task_role_arn            = module.roles.task_role_arn
  container_definitions = jsonencode([{
    name      = "catalog"
    image     = "${aws_ecr_repository.catalog.repository_url}:${var.image_tag}"
    essential = true
    secrets   = [{ name = "SEARCH_TOKEN", valueFrom = aws_secretsmanager_secret.search_token.arn }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.catalog.name
        awslogs-region        = var.region
        awslogs-stream-prefix = "catalog"
      }
    }
  }])
}
