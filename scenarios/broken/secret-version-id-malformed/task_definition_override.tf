# BROKEN: DB_PASSWORD's valueFrom ends in "::}" instead of "::": the stray "}" lands in the version-id field
# (<arn>:<json-key>:<version-stage>:<version-id>). GetSecretValue takes a version id of 32-64 characters, so the
# agent's call fails before reaching Secrets Manager, whatever the role allows.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html
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
          valueFrom = "${aws_secretsmanager_secret.db_credentials.arn}:password::}"
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
}
