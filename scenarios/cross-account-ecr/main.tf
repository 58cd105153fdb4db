# Workload account: task execution role, log group, task definition.
provider "aws" {
  region = var.region
}

# Registry account: owns the ECR repository and its repository policy.
provider "aws" {
  alias  = "registry"
  region = var.region

  assume_role {
    role_arn = var.registry_role_arn
  }
}

locals {
  service = "app"
  name    = "${var.name_prefix}-${local.service}"

  # Exactly what is passed to the execution-role module.
  # tolist() gives every entry a list type (not a tuple) so the `services`
  # output unifies to one map element type.
  declared = {
    secret_arns         = tolist([])
    ssm_parameter_arns  = tolist([])
    kms_key_arns        = tolist([])
    ecr_repository_arns = tolist([aws_ecr_repository.registry.arn])
    log_group_arns      = tolist([aws_cloudwatch_log_group.this.arn])
  }
}

################################################################################
# Registry account: repository + policy letting the workload role pull
# https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policy-examples.html
################################################################################

resource "aws_ecr_repository" "registry" {
  provider = aws.registry

  name = "${var.name_prefix}-xacct"
  tags = var.tags
}

module "registry_pull_policy" {
  source = "../../modules/ecr-cross-account-pull"

  providers = {
    aws = aws.registry
  }

  repository_name  = aws_ecr_repository.registry.name
  puller_role_arns = [module.execution_role.arn]
}

################################################################################
# Workload account: ECS task execution role pulling from the other account
# Both sides must allow the pull: the repository policy (above) and this
# role's identity policy (PullFromECR + GetECRAuthorizationToken).
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
################################################################################

resource "aws_cloudwatch_log_group" "this" {
  name              = "/ecs/${local.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

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
      image     = "${aws_ecr_repository.registry.repository_url}:latest"
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

  # Tasks can only pull once the repository policy grants the role access.
  depends_on = [module.registry_pull_policy]
}

# The task definition became optional (create_task_definition); existing state keeps its object.
moved {
  from = aws_ecs_task_definition.this
  to   = aws_ecs_task_definition.this[0]
}
