provider "aws" {
  region = var.region
}

locals {
  service = "app"
  name    = "${var.name_prefix}-${local.service}"
  image   = "public.ecr.aws/docker/library/nginx:stable"

  # Name of a log group that is never created.
  log_group_name = "/ecs/${local.name}-missing"

  # The Fargate start-up failure this configuration reproduces (= folder name).
  expected_failure = "log-group-missing"

  # Exactly what is passed to the execution-role module.
  # tolist() gives every entry a list type (not a tuple) so the `services`
  # output unifies to one map element type.
  declared = {
    secret_arns         = tolist([])
    ssm_parameter_arns  = tolist([])
    kms_key_arns        = tolist([])
    ecr_repository_arns = tolist([])
    log_group_arns      = tolist([])
  }
}

################################################################################
# BROKEN: the awslogs driver points at a log group that does not exist
# No aws_cloudwatch_log_group is created and the task definition does not set
# awslogs-create-group. The role itself may write logs anywhere
# (AmazonECSTaskExecutionRolePolicy: logs:CreateLogStream on "*"), so only the
# group's absence is the problem.
# Fix: create the log group (aws_cloudwatch_log_group).
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html
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

  # Keep AmazonECSTaskExecutionRolePolicy (log writes on "*"): permissions
  # are not what breaks this task.
  attach_execution_managed_policy = true
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
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = local.log_group_name
          awslogs-region        = var.region
          awslogs-stream-prefix = local.service
        }
      }
    },
  ])
}
