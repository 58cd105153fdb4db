# BROKEN: the task definition names a task role whose trust policy was copied from another account: its
# confused-deputy condition pins aws:SourceAccount to 111122223333, so ECS, acting for this account, cannot
# assume it.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
locals {
  extra_role = true
  extra_role_trust = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "ECSTasksAssumeRole"
        Effect    = "Allow"
        Principal = { Service = "ecs-tasks.amazonaws.com" }
        Action    = "sts:AssumeRole"
        Condition = {
          StringEquals = { "aws:SourceAccount" = "111122223333" }
        }
      },
    ]
  })
}

resource "aws_ecs_task_definition" "this" {
  task_role_arn = aws_iam_role.extra[0].arn
}
