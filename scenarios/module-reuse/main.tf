provider "aws" {
  region = var.region
}

locals {
  image = "public.ecr.aws/docker/library/nginx:stable"

  # One execution role, secret, log group and task definition per service.
  services = {
    api = {
      secret_env = "API_SIGNING_KEY"
    }
    worker = {
      secret_env = "QUEUE_PASSWORD"
    }
    scheduler = {
      secret_env = "SCHEDULER_TOKEN"
    }
  }

  # Exactly what is passed to each execution-role module instance.
  # tolist() gives every entry a list type (not a tuple) so the `services`
  # output unifies to one map element type.
  declared = {
    for svc in keys(local.services) : svc => {
      secret_arns         = tolist([aws_secretsmanager_secret.this[svc].arn])
      ssm_parameter_arns  = tolist([])
      kms_key_arns        = tolist([])
      ecr_repository_arns = tolist([])
      log_group_arns      = tolist([aws_cloudwatch_log_group.this[svc].arn])
    }
  }
}

################################################################################
# Per-service secret and log group
################################################################################

resource "aws_secretsmanager_secret" "this" {
  for_each = local.services

  name                    = "${var.name_prefix}-${each.key}-secret"
  description             = "Secret of the ${each.key} service"
  recovery_window_in_days = 0
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "this" {
  for_each = local.services

  secret_id     = aws_secretsmanager_secret.this[each.key].id
  secret_string = var.secret_value
}

resource "aws_cloudwatch_log_group" "this" {
  for_each = local.services

  name              = "/ecs/${var.name_prefix}-${each.key}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

################################################################################
# One ECS task execution role per service from the same module (for_each).
# Each role can read only its own secret and write only its own log group.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
################################################################################

module "execution_role" {
  source   = "../../modules/ecs-execution-role"
  for_each = local.services

  service_name        = "${var.name_prefix}-${each.key}"
  secret_arns         = local.declared[each.key].secret_arns
  ssm_parameter_arns  = local.declared[each.key].ssm_parameter_arns
  kms_key_arns        = local.declared[each.key].kms_key_arns
  ecr_repository_arns = local.declared[each.key].ecr_repository_arns
  log_group_arns      = local.declared[each.key].log_group_arns
  tags                = var.tags
}

resource "aws_ecs_task_definition" "this" {
  for_each = var.create_task_definition ? local.services : {}

  family                   = "${var.name_prefix}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "256"
  memory                   = "512"
  execution_role_arn       = module.execution_role[each.key].arn
  tags                     = var.tags

  container_definitions = jsonencode([
    {
      name      = each.key
      image     = local.image
      essential = true
      secrets = [
        {
          name      = each.value.secret_env
          valueFrom = aws_secretsmanager_secret.this[each.key].arn
        },
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.this[each.key].name
          awslogs-region        = var.region
          awslogs-stream-prefix = each.key
        }
      }
    },
  ])

  depends_on = [aws_secretsmanager_secret_version.this]
}
