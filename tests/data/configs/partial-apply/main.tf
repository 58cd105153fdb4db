# The task definition is created, then an attachment fails: the managed policy's name has a typo. IAM answers
# NoSuchEntity at once, so the apply stops part-way in seconds (a typo'd cluster name would do the same after
# two minutes of the provider's retries on ClusterNotFoundException).
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

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicyy"
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
