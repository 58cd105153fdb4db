# BROKEN (a warning: the task starts): the app logs through a FireLens log router whose cloudwatch_logs output
# writes with the task role, and the task role has no logs:CreateLogStream / PutLogEvents / DescribeLogStreams.
# The router itself logs with awslogs (execution role), so the task starts and the app's logs are lost.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_firelens.html
resource "aws_ecs_task_definition" "this" {
  container_definitions = jsonencode([
    {
      name      = "log_router"
      image     = "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"
      essential = true
      firelensConfiguration = {
        type = "fluentbit"
      }
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.this.name
          awslogs-region        = var.region
          awslogs-stream-prefix = "firelens"
        }
      }
    },
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
        logDriver = "awsfirelens"
        options = {
          Name              = "cloudwatch_logs"
          region            = var.region
          log_group_name    = aws_cloudwatch_log_group.this.name
          log_stream_prefix = "app-"
        }
      }
    },
  ])
}
