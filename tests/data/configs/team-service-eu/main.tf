# Written the way a team's service repository is: the region in terraform.tfvars (eu-west-1, while
# variables.tf defaults to us-east-1), the team's own default_tags on the provider (a literal map) and
# ignore_tags for a tag another tool sets, an audit provider alias with no region of its own whose
# default_tags are an expression, fixed names and no outputs.
terraform {
  required_version = ">= 1.3"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 3.39"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Team        = "payments"
      CostCenter  = "cc-4711"
      Environment = var.environment
    }
  }

  ignore_tags {
    keys = ["LastScannedBy"]
  }
}

# The audit account's log group lives beside the service; the alias reads the region from AWS_REGION.
provider "aws" {
  alias = "audit"

  default_tags {
    tags = merge(var.audit_tags, { Purpose = "audit" })
  }
}

resource "aws_iam_role" "execution" {
  name = "orders-execution"
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

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_cloudwatch_log_group" "orders" {
  name              = "/ecs/orders"
  retention_in_days = 14
}

resource "aws_cloudwatch_log_group" "audit" {
  provider          = aws.audit
  name              = "/audit/orders"
  retention_in_days = 365
}

resource "aws_ecs_cluster" "main" {
  name = "orders"
}

resource "aws_ecs_task_definition" "orders" {
  family                   = "orders"
  execution_role_arn       = aws_iam_role.execution.arn
  network_mode             = "awsvpc"
  requires_compatibilities = ["FARGATE"]
  cpu                      = "256"
  memory                   = "512"
  container_definitions = jsonencode([{
    name      = "orders"
    image     = "public.ecr.aws/nginx/nginx:1.25"
    essential = true
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.orders.name
        awslogs-region        = var.region
        awslogs-stream-prefix = "orders"
      }
    }
  }])
}
