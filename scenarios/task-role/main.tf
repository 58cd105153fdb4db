provider "aws" {
  region = var.region
}

locals {
  service = "app"
  name    = "${var.name_prefix}-${local.service}"
  image   = "public.ecr.aws/docker/library/nginx:stable"

  # Exactly what is passed to the execution-role module (infrastructure side).
  # tolist() gives every entry a list type (not a tuple) so the `services`
  # output unifies to one map element type.
  declared = {
    secret_arns         = tolist([aws_secretsmanager_secret.db_password.arn])
    ssm_parameter_arns  = tolist([])
    kms_key_arns        = tolist([])
    ecr_repository_arns = tolist([])
    log_group_arns      = tolist([aws_cloudwatch_log_group.this.arn])
  }

  # Exactly what is passed to the task-role module (application side).
  task_declared = {
    s3_bucket_arns      = tolist([aws_s3_bucket.data.arn])
    dynamodb_table_arns = tolist(aws_dynamodb_table.items[*].arn)
  }
}

################################################################################
# Application data stores (accessed by the application through the task role)
################################################################################

resource "aws_s3_bucket" "data" {
  bucket        = "${var.name_prefix}-app-data"
  force_destroy = true
  tags          = var.tags

  # S3 encrypts every new bucket with SSE-S3 (AES256) by default (AWS, and LocalStack too). Provider 3.x
  # reads that back as an inline server_side_encryption_configuration the configuration does not have and
  # plans to remove it on every run; later providers treat it as computed. Seen by the idempotency check.
  lifecycle {
    ignore_changes = [server_side_encryption_configuration]
  }
}

resource "aws_dynamodb_table" "items" {
  count = var.create_table ? 1 : 0

  name         = "${var.name_prefix}-app-items"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"
  tags         = var.tags

  attribute {
    name = "pk"
    type = "S"
  }
}

################################################################################
# Secret injected by the ECS agent (read through the execution role)
################################################################################

resource "aws_secretsmanager_secret" "db_password" {
  name                    = "${local.name}-db-password"
  description             = "Database password for ${local.name}"
  recovery_window_in_days = 0
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "db_password" {
  secret_id     = aws_secretsmanager_secret.db_password.id
  secret_string = var.secret_value
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/ecs/${local.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

################################################################################
# ECS task execution role (used by the ECS agent: secret + logs)
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

################################################################################
# ECS task role (used by the application code: bucket + table)
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
################################################################################

module "task_role" {
  source = "../../modules/ecs-task-role"

  service_name        = local.name
  s3_bucket_arns      = local.task_declared.s3_bucket_arns
  dynamodb_table_arns = local.task_declared.dynamodb_table_arns
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
  task_role_arn            = module.task_role.arn
  tags                     = var.tags

  container_definitions = jsonencode([
    {
      name      = local.service
      image     = local.image
      essential = true
      environment = [
        {
          name  = "DATA_BUCKET"
          value = aws_s3_bucket.data.id
        },
        {
          name  = "ITEMS_TABLE"
          value = try(aws_dynamodb_table.items[0].name, "")
        },
      ]
      secrets = [
        {
          name      = "DB_PASSWORD"
          valueFrom = aws_secretsmanager_secret.db_password.arn
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

  depends_on = [aws_secretsmanager_secret_version.db_password]
}

# The task definition became optional (create_task_definition); existing state keeps its object.
moved {
  from = aws_ecs_task_definition.this
  to   = aws_ecs_task_definition.this[0]
}

# The table became optional (create_table); existing state keeps its object.
moved {
  from = aws_dynamodb_table.items
  to   = aws_dynamodb_table.items[0]
}
