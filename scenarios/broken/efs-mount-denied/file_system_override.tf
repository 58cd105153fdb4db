# BROKEN: the container mounts an EFS volume with IAM authorization. EFS authorizes the mount with the task
# role, which has no elasticfilesystem:ClientMount / ClientWrite, and the file system policy grants them only
# to the execution role (the wrong role: the ECS agent does not mount with it).
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/efs-volumes.html
# https://docs.aws.amazon.com/efs/latest/ug/iam-access-control-nfs-efs.html
locals {
  file_system = true
  file_system_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "ExecutionRoleMountsAndWrites"
        Effect    = "Allow"
        Principal = { AWS = "*" }
        Action    = ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]
        Condition = {
          ArnLike = { "aws:PrincipalArn" = "arn:aws:iam::*:role/${local.name}-execution" }
          Bool    = { "elasticfilesystem:AccessedViaMountTarget" = "true" }
        }
      },
    ]
  })
}

resource "aws_ecs_task_definition" "this" {
  volume {
    name = "data"

    efs_volume_configuration {
      file_system_id     = aws_efs_file_system.extra[0].id
      transit_encryption = "ENABLED"

      authorization_config {
        iam = "ENABLED"
      }
    }
  }

  container_definitions = jsonencode([
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
      mountPoints = [
        {
          sourceVolume  = "data"
          containerPath = "/data"
          readOnly      = false
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
