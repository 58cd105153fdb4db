provider "aws" {
  region = var.region
}

locals {
  service = "app"
  name    = "${var.name_prefix}-${local.service}"

  # The Fargate start-up failure this configuration reproduces (= folder name).
  expected_failure = "ecr-pull-denied"

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
# Same-account ECR repository holding the service image
# https://docs.aws.amazon.com/AmazonECR/latest/userguide/ECR_on_ECS.html
################################################################################

resource "aws_ecr_repository" "this" {
  name = "${var.name_prefix}-pull-denied"
  tags = var.tags
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/ecs/${local.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

################################################################################
# BROKEN: ECS task execution role without any ECR permission
# The managed policy (ECR pull on "*") is not attached and the repository is
# not in ecr_repository_arns, so the role has neither ecr:GetAuthorizationToken
# nor the pull actions. Only WriteLogs is granted: logging would work.
# Fix: ecr_repository_arns = [aws_ecr_repository.this.arn].
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

  # Least-privilege role that forgot the repository.
  attach_execution_managed_policy = false
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
      image     = "${aws_ecr_repository.this.repository_url}:latest"
      essential = true
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
