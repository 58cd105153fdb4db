# BROKEN: the container logs to a group nobody created, with awslogs-create-group = "true", and the execution
# role has no logs:CreateLogGroup (AmazonECSTaskExecutionRolePolicy grants only CreateLogStream/PutLogEvents).
# The driver's CreateLogStream finds no group, its CreateLogGroup is denied, and the task stops.
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
          awslogs-group         = "/ecs/${local.name}-created-at-start"
          awslogs-region        = var.region
          awslogs-stream-prefix = local.service
          awslogs-create-group  = "true"
        }
      }
    },
  ])
}
