provider "aws" {
  region = var.region
}

locals {
  service = "app"
  name    = "${var.name_prefix}-${local.service}"

  # Exactly what is passed to the execution-role module; echoed in the
  # `services` output so tests can compare the policy against it. tolist()
  # gives every entry a list type (not a tuple) so the `services` output
  # unifies to one map element type.
  declared = {
    secret_arns         = tolist([])
    ssm_parameter_arns  = tolist([])
    kms_key_arns        = tolist([])
    ecr_repository_arns = tolist(aws_ecr_repository.this[*].arn)
    log_group_arns      = tolist([aws_cloudwatch_log_group.this.arn])
  }

  # Hooks a case under scenarios/broken/ may override (a *_override.tf locals block): the image tag
  # pulled from the repository and the log group the container writes to.
  image_tag     = "latest"
  awslogs_group = aws_cloudwatch_log_group.this.name
}

################################################################################
# Same-account ECR repository holding the service image
################################################################################

resource "aws_ecr_repository" "this" {
  count = var.create_repository ? 1 : 0

  name = "${var.name_prefix}-basic"
  tags = var.tags
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/ecs/${local.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

################################################################################
# ECS task execution role: pull from the repository, write to the log group
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
      image     = var.create_repository ? "${aws_ecr_repository.this[0].repository_url}:${local.image_tag}" : var.fallback_image
      essential = true
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = local.awslogs_group
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

# The repository became optional (create_repository); existing state keeps its object.
moved {
  from = aws_ecr_repository.this
  to   = aws_ecr_repository.this[0]
}
