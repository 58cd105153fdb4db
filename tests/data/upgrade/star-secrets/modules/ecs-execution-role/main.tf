# Fixture: an older ecs-execution-role that read every secret (Resource "*").
data "aws_partition" "current" {}

locals {
  role_name = coalesce(var.role_name, "${var.service_name}-execution")

  # The awslogs driver calls CreateLogStream/PutLogEvents on log *streams*,
  # whose ARNs are "<log group ARN>:log-stream:<name>". Each log group ARN is
  # therefore mapped to "<log group ARN without a trailing :*>:*" so that the
  # same input works with both ARN styles (AWS provider 2.x exported ":*").
  log_stream_arns = [for arn in var.log_group_arns : "${trimsuffix(arn, ":*")}:*"]

  # Every candidate statement with a flag saying whether its input is
  # non-empty. Only enabled statements end up in the policy. The list is a
  # tuple (elements have different shapes), so a for expression keeps it
  # free of type unification problems ("*" vs list Resource).
  candidate_statements = [
    {
      enabled = length(var.ecr_repository_arns) > 0
      statement = {
        Sid    = "PullFromECR"
        Effect = "Allow"
        Action = [
          "ecr:BatchCheckLayerAvailability",
          "ecr:GetDownloadUrlForLayer",
          "ecr:BatchGetImage",
        ]
        Resource = var.ecr_repository_arns
      }
    },
    {
      # GetAuthorizationToken is not resource-scoped: it only supports "*".
      enabled = length(var.ecr_repository_arns) > 0
      statement = {
        Sid      = "GetECRAuthorizationToken"
        Effect   = "Allow"
        Action   = ["ecr:GetAuthorizationToken"]
        Resource = "*"
      }
    },
    {
      enabled = length(var.secret_arns) > 0
      statement = {
        Sid      = "ReadSecrets"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = "*"
      }
    },
    {
      enabled = length(var.ssm_parameter_arns) > 0
      statement = {
        Sid      = "ReadParameters"
        Effect   = "Allow"
        Action   = ["ssm:GetParameters"]
        Resource = var.ssm_parameter_arns
      }
    },
    {
      enabled = length(var.kms_key_arns) > 0
      statement = {
        Sid      = "DecryptSecrets"
        Effect   = "Allow"
        Action   = ["kms:Decrypt"]
        Resource = var.kms_key_arns
      }
    },
    {
      enabled = length(var.log_group_arns) > 0
      statement = {
        Sid    = "WriteLogs"
        Effect = "Allow"
        Action = [
          "logs:CreateLogStream",
          "logs:PutLogEvents",
        ]
        Resource = local.log_stream_arns
      }
    },
  ]

  statements = [for c in local.candidate_statements : c.statement if c.enabled]

  create_inline_policy = length(local.statements) > 0
}

################################################################################
# ECS task execution role
# Used by the ECS agent / Fargate to pull images, fetch secrets and write logs
# on behalf of the task (not by the application itself).
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
################################################################################

resource "aws_iam_role" "this" {
  name                 = local.role_name
  description          = "ECS task execution role for ${var.service_name}"
  permissions_boundary = var.permissions_boundary
  tags                 = var.tags

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "ECSTasksAssumeRole"
        Effect    = "Allow"
        Principal = { Service = "ecs-tasks.amazonaws.com" }
        Action    = "sts:AssumeRole"
      },
    ]
  })
}

################################################################################
# AWS managed policy AmazonECSTaskExecutionRolePolicy (optional)
# Grants ecr:GetAuthorizationToken, the ECR pull actions and
# logs:CreateLogStream / logs:PutLogEvents on "*". Set
# attach_execution_managed_policy = false to keep only the inline statements.
# https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonECSTaskExecutionRolePolicy.html
################################################################################

resource "aws_iam_role_policy_attachment" "execution" {
  count = var.attach_execution_managed_policy ? 1 : 0

  role       = aws_iam_role.this.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

# The attachment had no count before attach_execution_managed_policy existed:
# keep the state of existing users at the same object (no destroy/create).
moved {
  from = aws_iam_role_policy_attachment.execution
  to   = aws_iam_role_policy_attachment.execution[0]
}

resource "aws_iam_role_policy_attachment" "extra" {
  for_each = toset(var.managed_policy_arns)

  role       = aws_iam_role.this.name
  policy_arn = each.value
}

################################################################################
# Inline policy scoped to exactly the resources passed in
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
################################################################################

resource "aws_iam_role_policy" "this" {
  count = local.create_inline_policy ? 1 : 0

  name = "execution-access"
  role = aws_iam_role.this.id

  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = local.statements
  })
}
