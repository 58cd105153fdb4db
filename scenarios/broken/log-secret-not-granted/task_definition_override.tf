# BROKEN: every service logs to Splunk with the token stored in the api service's secret. Each execution role
# may read only its own service's secret, so the worker and scheduler tasks cannot fetch the log driver's
# token (logConfiguration.secretOptions are fetched by the execution role, like secrets).
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html
resource "aws_ecs_task_definition" "this" {
  container_definitions = jsonencode([
    {
      name      = each.key
      image     = local.image
      essential = true
      secrets = [
        {
          name      = each.value.secret_env
          valueFrom = aws_secretsmanager_secret.this[each.key].arn
        },
      ]
      logConfiguration = {
        logDriver = "splunk"
        options = {
          splunk-url    = "https://splunk.example.com:8088"
          splunk-source = each.key
        }
        secretOptions = [
          {
            name      = "splunk-token"
            valueFrom = aws_secretsmanager_secret.this["api"].arn
          },
        ]
      }
    },
  ])
}
