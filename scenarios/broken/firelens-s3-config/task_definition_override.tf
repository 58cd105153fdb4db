# BROKEN: the FireLens log router reads its configuration from S3; on Fargate only config-file-type
# "file" is supported. RegisterTaskDefinition refuses it on AWS (moto stores it).
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_firelens.html
resource "aws_ecs_task_definition" "this" {
  container_definitions = jsonencode([
    {
      name      = "log_router"
      image     = "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"
      essential = true
      firelensConfiguration = {
        type = "fluentbit"
        options = {
          config-file-type  = "s3"
          config-file-value = "s3://${var.name_prefix}-config/fluent-bit.conf"
        }
      }
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = local.awslogs_group
          awslogs-region        = var.region
          awslogs-stream-prefix = "firelens"
        }
      }
    },
  ])
}
