terraform {
  backend "s3" {
    bucket = "platform-team-terraform-state"
    key    = "services/checkout.tfstate"
    region = "eu-central-1"
  }
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

resource "aws_secretsmanager_secret" "stripe_key" {
  name = "checkout/stripe-key"
}

resource "aws_cloudwatch_log_group" "checkout" {
  name              = "/ecs/checkout"
  retention_in_days = 30
}

module "roles" {
  source      = "../../modules/service-roles"
  service     = "checkout"
  secret_arns = [aws_secretsmanager_secret.stripe_key.arn]
}

resource "aws_ecs_task_definition" "checkout" {
  family                   = "checkout"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = module.roles.execution_role_arn
  task_role_arn            = module.roles.task_role_arn
  container_definitions = jsonencode([{
    name      = "checkout"
    image     = var.image
    essential = true
    secrets   = [{ name = "STRIPE_KEY", valueFrom = aws_secretsmanager_secret.stripe_key.arn }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.checkout.name
        awslogs-region        = var.region
        awslogs-stream-prefix = "checkout"
      }
    }
  }])
}
