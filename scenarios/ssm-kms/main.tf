provider "aws" {
  region = var.region
}

# Who runs Terraform: a case under scenarios/broken/ may write a key policy naming only this identity.
data "aws_caller_identity" "current" {}

locals {
  service = "app"
  name    = "${var.name_prefix}-${local.service}"
  image   = "public.ecr.aws/docker/library/nginx:stable"

  # SecureString parameters injected into the container, keyed by env var name.
  parameters = {
    DB_PASSWORD = "db-password"
    API_TOKEN   = "api-token"
  }

  # Exactly what is passed to the execution-role module.
  # tolist() gives every entry a list type (not a tuple) so the `services`
  # output unifies to one map element type.
  declared = {
    secret_arns         = tolist([])
    ssm_parameter_arns  = tolist([for env in sort(keys(local.parameters)) : aws_ssm_parameter.this[env].arn])
    kms_key_arns        = tolist([aws_kms_key.this.arn])
    ecr_repository_arns = tolist([])
    log_group_arns      = tolist([aws_cloudwatch_log_group.this.arn])
  }

  # Hook for a case under scenarios/broken/ (a *_override.tf locals block): the key policy. null keeps
  # KMS's default key policy, which lets IAM policies of the account grant use of the key.
  key_policy = null
}

################################################################################
# Customer managed KMS key encrypting the SecureString parameters
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-ssm-paramstore.html
################################################################################

resource "aws_kms_key" "this" {
  description             = "Encrypts the SSM SecureString parameters of ${local.name}"
  deletion_window_in_days = 7
  policy                  = local.key_policy
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name_prefix}-ssm"
  target_key_id = aws_kms_key.this.key_id
}

resource "aws_ssm_parameter" "this" {
  for_each = local.parameters

  name        = "/${var.name_prefix}/${each.value}"
  description = "${each.key} for ${local.name}"
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
# ECS task execution role: read the parameters, decrypt with the key, write logs
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
################################################################################

module "execution_role" {
  source = "../../modules/ecs-execution-role"

  service_name        = local.name
  secret_arns         = local.declared.secret_arns
  ssm_parameter_arns  = local.declared.ssm_parameter_arns
  kms_key_arns        = local.declared.kms_key_arns
  ecr_repository_arns = local.declared.ecr_repository_arns
  log_group_arns      = local.declared.log_group_arns
  tags                = var.tags
}

resource "aws_ecs_task_definition" "this" {
  count = var.create_task_definition ? 1 : 0

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
        for env in sort(keys(local.parameters)) : {
          name      = env
          valueFrom = aws_ssm_parameter.this[env].arn
        }
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

# The task definition became optional (create_task_definition); existing state keeps its object.
moved {
  from = aws_ecs_task_definition.this
  to   = aws_ecs_task_definition.this[0]
}
