# BROKEN: the pipeline's deployer role ("<name>-extra", assumed by CodeBuild) registers the task definition and
# may pass the execution role, but its iam:PassRole statement forgot the task role. Registering the task
# definition (or updating the service) fails with "... is not authorized to perform: iam:PassRole".
# The test passes this role to preflight as deployer=.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html
locals {
  extra_role = true
  extra_role_trust = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "CodeBuildAssumeRole"
        Effect    = "Allow"
        Principal = { Service = "codebuild.amazonaws.com" }
        Action    = "sts:AssumeRole"
      },
    ]
  })
  extra_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "RegisterTaskDefinitions"
        Effect   = "Allow"
        Action   = ["ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition"]
        Resource = "*"
      },
      {
        Sid      = "PassExecutionRole"
        Effect   = "Allow"
        Action   = "iam:PassRole"
        Resource = "arn:aws:iam::*:role/${local.name}-execution"
        Condition = {
          StringEquals = { "iam:PassedToService" = "ecs-tasks.amazonaws.com" }
        }
      },
    ]
  })
}
