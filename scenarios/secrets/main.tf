provider "aws" {
  region = var.region
}

locals {
  service = "app"
  name    = "${var.name_prefix}-${local.service}"
  image   = "public.ecr.aws/docker/library/nginx:stable"

  # Exactly what is passed to the execution-role module. The image is public
  # (not in ECR), so no ECR statements are needed.
  # tolist() gives every entry a list type (not a tuple) so the `services`
  # output unifies to one map element type.
  declared = {
    secret_arns = tolist([
      aws_secretsmanager_secret.api_key.arn,
      aws_secretsmanager_secret.db_credentials.arn,
    ])
    ssm_parameter_arns  = tolist([])
    kms_key_arns        = tolist([])
    ecr_repository_arns = tolist([])
    log_group_arns      = tolist([aws_cloudwatch_log_group.this.arn])
  }
}

################################################################################
# Secrets Manager secrets injected into the container
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data-secrets.html
################################################################################

# Plain string secret, injected whole.
resource "aws_secretsmanager_secret" "api_key" {
  name                    = "${local.name}-api-key"
  description             = "API key for ${local.name}"
  recovery_window_in_days = 0
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "api_key" {
  secret_id     = aws_secretsmanager_secret.api_key.id
  secret_string = var.secret_value
}

# JSON secret; the container reads only its "password" key.
resource "aws_secretsmanager_secret" "db_credentials" {
  name                    = "${local.name}-db-credentials"
  description             = "Database credentials (JSON) for ${local.name}"
  recovery_window_in_days = 0
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "db_credentials" {
  secret_id = aws_secretsmanager_secret.db_credentials.id
  secret_string = jsonencode({
    username = local.service
    password = var.secret_value
  })
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/ecs/${local.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

################################################################################
# ECS task execution role: read both secrets, write to the log group
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
        {
          # Whole secret value.
          name      = "API_KEY"
          valueFrom = aws_secretsmanager_secret.api_key.arn
        },
        {
          # One key of a JSON secret: <arn>:<json-key>:<version-stage>:<version-id>
          name      = "DB_PASSWORD"
          valueFrom = "${aws_secretsmanager_secret.db_credentials.arn}:password::"
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

  # The ECS agent reads the secrets at task start; make sure they have a value.
  depends_on = [
    aws_secretsmanager_secret_version.api_key,
    aws_secretsmanager_secret_version.db_credentials,
  ]
}

# The task definition became optional (create_task_definition); existing state keeps its object.
moved {
  from = aws_ecs_task_definition.this
  to   = aws_ecs_task_definition.this[0]
}
