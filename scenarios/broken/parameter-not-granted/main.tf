provider "aws" {
  region = var.region
}

locals {
  service = "app"
  name    = "${var.name_prefix}-${local.service}"
  image   = "public.ecr.aws/docker/library/nginx:stable"

  # The Fargate start-up failure this configuration reproduces (= folder name).
  expected_failure = "parameter-not-granted"

  # Exactly what is passed to the execution-role module.
  # tolist() gives every entry a list type (not a tuple) so the `services`
  # output unifies to one map element type.
  declared = {
    secret_arns         = tolist([])
    ssm_parameter_arns  = tolist([])
    kms_key_arns        = tolist([])
    ecr_repository_arns = tolist([])
    log_group_arns      = tolist([aws_cloudwatch_log_group.this.arn])
  }
}

################################################################################
# SSM SecureString parameter encrypted with the AWS managed key aws/ssm
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-ssm-paramstore.html
################################################################################

resource "aws_ssm_parameter" "api_token" {
  name        = "/${var.name_prefix}/api-token"
  description = "API_TOKEN for ${local.name}"
  type        = "SecureString"
  value       = var.secret_value
  tags        = var.tags
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/ecs/${local.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

################################################################################
# BROKEN: ECS task execution role NOT granted the parameter
# ssm_parameter_arns is empty, so there is no ReadParameters statement, and
# AmazonECSTaskExecutionRolePolicy grants no ssm action.
# Fix: ssm_parameter_arns = [aws_ssm_parameter.api_token.arn].
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
          name      = "API_TOKEN"
          valueFrom = aws_ssm_parameter.api_token.arn
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
