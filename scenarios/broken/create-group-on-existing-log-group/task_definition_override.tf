# WARNING ONLY: awslogs-create-group is true and the execution role has no logs:CreateLogGroup, but the log
# group exists. The awslogs driver creates the stream first and the group only when the stream call says it is
# missing, so the task starts; the ECS documentation still asks for the permission whenever the option is set.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html
resource "aws_ecs_task_definition" "this" {
  container_definitions = jsonencode([
    {
      name      = local.service
      image     = local.image
      essential = true
      secrets = [
        {
          name      = "API_KEY"
          valueFrom = aws_secretsmanager_secret.api_key.arn
        },
        {
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
          awslogs-create-group  = "true"
        }
      }
    },
  ])
}
