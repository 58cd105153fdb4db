# BROKEN: DB_PASSWORD asks the JSON secret for the key "passwd"; the secret's value holds "username" and
# "password". The agent reads the value, finds no such key, and the task stops before any container starts.
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
          valueFrom = "${aws_secretsmanager_secret.db_credentials.arn}:passwd::"
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
