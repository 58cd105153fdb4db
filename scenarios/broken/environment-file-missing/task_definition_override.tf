# BROKEN: the container reads environment variables from an S3 object that was never uploaded, and the
# execution role has no S3 action (s3:GetObject on the object, s3:GetBucketLocation on the bucket).
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/use-environment-file.html
resource "aws_ecs_task_definition" "this" {
  container_definitions = jsonencode([
    {
      name      = local.service
      image     = local.image
      essential = true
      environmentFiles = [
        {
          type  = "s3"
          value = "${aws_s3_bucket.data.arn}/config/app.env"
        },
      ]
      secrets = [
        {
          name      = "DB_PASSWORD"
          valueFrom = aws_secretsmanager_secret.db_password.arn
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
