# BROKEN: the task definition names a task role whose trust policy was copied from an EC2 instance role:
# it trusts ec2.amazonaws.com, so ecs-tasks.amazonaws.com cannot assume it.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
locals {
  extra_role = true
  extra_role_trust = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "EC2AssumeRole"
        Effect    = "Allow"
        Principal = { Service = "ec2.amazonaws.com" }
        Action    = "sts:AssumeRole"
      },
    ]
  })
}

resource "aws_ecs_task_definition" "this" {
  task_role_arn = aws_iam_role.extra[0].arn
}
