locals {
  role_name = coalesce(var.role_name, "${var.service_name}-task")

  s3_object_arns     = [for arn in var.s3_bucket_arns : "${arn}/*"]
  dynamodb_resources = concat(var.dynamodb_table_arns, [for arn in var.dynamodb_table_arns : "${arn}/index/*"])

  candidate_statements = [
    {
      enabled = length(var.s3_bucket_arns) > 0
      statement = {
        Sid      = "S3ListBucket"
        Effect   = "Allow"
        Action   = ["s3:ListBucket"]
        Resource = var.s3_bucket_arns
      }
    },
    {
      enabled = length(var.s3_bucket_arns) > 0
      statement = {
        Sid    = "S3ObjectAccess"
        Effect = "Allow"
        Action = [
          "s3:GetObject",
          "s3:PutObject",
          "s3:DeleteObject",
        ]
        Resource = local.s3_object_arns
      }
    },
    {
      enabled = length(var.dynamodb_table_arns) > 0
      statement = {
        Sid    = "DynamoDBItemAccess"
        Effect = "Allow"
        Action = [
          "dynamodb:GetItem",
          "dynamodb:PutItem",
          "dynamodb:UpdateItem",
          "dynamodb:DeleteItem",
          "dynamodb:Query",
          "dynamodb:BatchGetItem",
          "dynamodb:BatchWriteItem",
        ]
        Resource = local.dynamodb_resources
      }
    },
  ]

  statements = [for c in local.candidate_statements : c.statement if c.enabled]

  create_inline_policy = length(local.statements) > 0
}

################################################################################
# ECS task role
# Assumed by the application code running in the task's containers; it holds
# only the permissions the application needs (never image pull / log / secret
# injection permissions, which belong to the execution role).
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
################################################################################

resource "aws_iam_role" "this" {
  name                 = local.role_name
  description          = "ECS task role for ${var.service_name}"
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

resource "aws_iam_role_policy_attachment" "extra" {
  for_each = toset(var.managed_policy_arns)

  role       = aws_iam_role.this.name
  policy_arn = each.value
}

################################################################################
# Inline policy scoped to exactly the resources passed in
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
################################################################################

resource "aws_iam_role_policy" "this" {
  count = local.create_inline_policy ? 1 : 0

  name = "task-access"
  role = aws_iam_role.this.id

  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = local.statements
  })
}
