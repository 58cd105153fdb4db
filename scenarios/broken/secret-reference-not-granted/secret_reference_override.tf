# BROKEN: API_KEY is read through Parameter Store's reference to Secrets Manager. The execution role was given
# ssm:GetParameters on the reference parameter in place of secretsmanager:GetSecretValue on the secret, but
# Parameter Store reads the secret with the caller's own permissions: both are needed.
# https://docs.aws.amazon.com/systems-manager/latest/userguide/integration-ps-secretsmanager.html
module "execution_role" {
  secret_arns = [aws_secretsmanager_secret.db_credentials.arn]
  # The reference parameter's ARN, built from the secret's: arn:<partition>:ssm:<region>:<account>:parameter/...
  ssm_parameter_arns = [
    replace(
      aws_secretsmanager_secret.api_key.arn,
      "/^arn:([^:]+):secretsmanager:([^:]+):([0-9]+):secret:.*$/",
      "arn:$1:ssm:$2:$3:parameter/aws/reference/secretsmanager/${aws_secretsmanager_secret.api_key.name}",
    ),
  ]
}

resource "aws_ecs_task_definition" "this" {
  container_definitions = jsonencode([
    {
      name      = local.service
      image     = local.image
      essential = true
      secrets = [
        {
          name      = "API_KEY"
          valueFrom = "/aws/reference/secretsmanager/${aws_secretsmanager_secret.api_key.name}"
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
        }
      }
    },
  ])
}
