output "services" {
  description = "Per-service facts keyed by service short name: roles, task definition, log group and the ARN lists declared to the role modules."
  value = tomap({
    (local.service) = {
      execution_role_arn  = module.execution_role.arn
      execution_role_name = module.execution_role.name
      task_role_arn       = module.task_role.arn
      task_role_name      = module.task_role.name
      task_definition_arn = try(aws_ecs_task_definition.this[0].arn, null)
      family              = try(aws_ecs_task_definition.this[0].family, null)
      log_group_name      = aws_cloudwatch_log_group.this.name
      log_group_arn       = aws_cloudwatch_log_group.this.arn
      log_retention_days  = aws_cloudwatch_log_group.this.retention_in_days
      declared            = local.declared
      task_declared       = local.task_declared
    }
  })
}

output "bucket_arn" {
  description = "ARN of the application's S3 bucket (granted to the task role)."
  value       = aws_s3_bucket.data.arn
}

output "table_arn" {
  description = "ARN of the application's DynamoDB table (granted to the task role)."
  value       = try(aws_dynamodb_table.items[0].arn, null)
}
