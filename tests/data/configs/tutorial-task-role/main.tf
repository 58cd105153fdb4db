# An uploader service: its task role writes to a bucket and a table; the execution role was given the
# same S3 permissions "to be safe" (an application permission on the execution role).
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

resource "aws_s3_bucket" "uploads" {
  bucket        = "acme-uploads-prod"
  force_destroy = true
}

resource "aws_dynamodb_table" "uploads" {
  name         = "uploads"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}

resource "aws_cloudwatch_log_group" "uploader" {
  name              = "/ecs/uploader"
  retention_in_days = 30
}

locals {
  ecs_trust = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role" "execution" {
  name                = "uploader-execution"
  assume_role_policy  = local.ecs_trust
  managed_policy_arns = ["arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"]
}

resource "aws_iam_role_policy" "execution_s3" {
  name = "s3"
  role = aws_iam_role.execution.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["s3:PutObject"]
      Resource = ["${aws_s3_bucket.uploads.arn}/*"]
    }]
  })
}

resource "aws_iam_role" "task" {
  name               = "uploader-task"
  assume_role_policy = local.ecs_trust
}

resource "aws_iam_policy" "task" {
  name = "uploader-task"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Effect = "Allow", Action = ["s3:PutObject", "s3:GetObject"], Resource = ["${aws_s3_bucket.uploads.arn}/*"] },
      { Effect = "Allow", Action = ["dynamodb:PutItem", "dynamodb:GetItem"], Resource = [aws_dynamodb_table.uploads.arn] },
    ]
  })
}

resource "aws_iam_role_policy_attachment" "task" {
  role       = aws_iam_role.task.name
  policy_arn = aws_iam_policy.task.arn
}

resource "aws_ecs_task_definition" "uploader" {
  family                   = "uploader"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "256"
  memory                   = "512"
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  container_definitions = jsonencode([{
    name      = "uploader"
    image     = "public.ecr.aws/docker/library/busybox:1.36"
    essential = true
    environment = [
      { name = "BUCKET", value = aws_s3_bucket.uploads.bucket },
      { name = "TABLE", value = aws_dynamodb_table.uploads.name },
    ]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.uploader.name
        awslogs-region        = "us-east-1"
        awslogs-stream-prefix = "uploader"
      }
    }
  }])
}
