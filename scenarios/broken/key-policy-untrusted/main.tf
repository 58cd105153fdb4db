provider "aws" {
  region = var.region
}

data "aws_caller_identity" "current" {}

locals {
  service = "app"

  # The key administrator is whoever runs Terraform. An assumed-role session ARN is turned into its
  # role ARN, so a later run under another session name can still update and delete the key.
  key_administrator = replace(
    data.aws_caller_identity.current.arn,
    "/^arn:([^:]+):sts::([0-9]+):assumed-role/([^/]+)/.*$/",
    "arn:$1:iam::$2:role/$3",
  )
  name  = "${var.name_prefix}-${local.service}"
  image = "public.ecr.aws/docker/library/nginx:stable"

  # The Fargate start-up failure this configuration reproduces (= folder name).
  expected_failure = "key-policy-untrusted"

  # Exactly what is passed to the execution-role module.
  # tolist() gives every entry a list type (not a tuple) so the `services`
  # output unifies to one map element type.
  declared = {
    secret_arns         = tolist([])
    ssm_parameter_arns  = tolist([aws_ssm_parameter.db_password.arn])
    kms_key_arns        = tolist([aws_kms_key.this.arn])
    ecr_repository_arns = tolist([])
    log_group_arns      = tolist([aws_cloudwatch_log_group.this.arn])
  }
}

################################################################################
# BROKEN: customer managed KMS key whose key policy trusts neither the
# account (no "arn:aws:iam::<account>:root" statement, so IAM policies
# cannot grant its use) nor the execution role. Only the identity running
# Terraform may use and administer it.
# Fix: add the account root statement (or one naming the execution role with
# kms:Decrypt) to the key policy.
# https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
################################################################################

resource "aws_kms_key" "this" {
  description             = "Encrypts the SSM SecureString parameter of ${local.name}"
  deletion_window_in_days = 7
  tags                    = var.tags

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "KeyAdministration"
        Effect    = "Allow"
        Principal = { AWS = local.key_administrator }
        Action    = "kms:*"
        Resource  = "*"
      },
    ]
  })
}

################################################################################
# SecureString parameter encrypted with that key
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-ssm-paramstore.html
################################################################################

resource "aws_ssm_parameter" "db_password" {
  name        = "/${var.name_prefix}/db-password"
  description = "DB_PASSWORD for ${local.name}"
  type        = "SecureString"
  key_id      = aws_kms_key.this.arn
  value       = var.secret_value
  tags        = var.tags
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/ecs/${local.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

################################################################################
# ECS task execution role granted the parameter AND kms:Decrypt on the key:
# its identity policy is complete, but the key policy does not delegate to
# IAM, so DecryptSecrets has no effect.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
################################################################################

module "execution_role" {
  source = "../../../modules/ecs-execution-role"

  service_name        = local.name
  secret_arns         = local.declared.secret_arns
  ssm_parameter_arns  = local.declared.ssm_parameter_arns
  kms_key_arns        = local.declared.kms_key_arns
  ecr_repository_arns = local.declared.ecr_repository_arns
  log_group_arns      = local.declared.log_group_arns
  tags                = var.tags
}

resource "aws_ecs_task_definition" "this" {
  family                   = local.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "256"
  memory                   = "512"
  execution_role_arn       = module.execution_role.arn
  tags                     = var.tags

  container_definitions = jsonencode([
    {
      name      = local.service
      image     = local.image
      essential = true
      secrets = [
        {
          name      = "DB_PASSWORD"
          valueFrom = aws_ssm_parameter.db_password.arn
        },
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.this.name
          awslogs-region        = var.region
          awslogs-stream-prefix = local.service
        }
      }
    },
  ])
}
