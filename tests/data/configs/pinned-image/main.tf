# The task runs the release a pipeline pushed, pinned by digest: the data source reads the image once the
# repository exists, so an apply on an empty account creates the repository and then finds no image.
provider "aws" {
  region = "us-east-1"
}

variable "release" {
  type    = string
  default = "2024.06.1"
}

resource "aws_ecr_repository" "app" {
  name = "pinned/app"
}

data "aws_ecr_image" "release" {
  repository_name = aws_ecr_repository.app.name
  image_tag       = var.release
}

resource "aws_iam_role" "execution" {
  name = "pinned-app-execution"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "ecs-tasks.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_ecs_task_definition" "app" {
  family                   = "pinned-app"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  execution_role_arn       = aws_iam_role.execution.arn
  container_definitions = jsonencode([{
    name  = "app"
    image = "${aws_ecr_repository.app.repository_url}@${data.aws_ecr_image.release.image_digest}"
  }])
}
