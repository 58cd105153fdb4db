output "services" {
  description = "Per-service facts keyed by service short name: roles, task definition, log group and the ARN lists declared to the role modules."
  value = tomap({
    (local.service) = {
      execution_role_arn  = module.execution_role.arn
      execution_role_name = module.execution_role.name
      task_role_arn       = tostring(null)
      task_role_name      = tostring(null)
      task_definition_arn = try(aws_ecs_task_definition.this[0].arn, null)
      family              = try(aws_ecs_task_definition.this[0].family, null)
      log_group_name      = aws_cloudwatch_log_group.this.name
      log_group_arn       = aws_cloudwatch_log_group.this.arn
      log_retention_days  = aws_cloudwatch_log_group.this.retention_in_days
      declared            = local.declared
      task_declared = {
        s3_bucket_arns      = tolist([])
        dynamodb_table_arns = tolist([])
      }
    }
  })
}

output "repository_url" {
  description = "URL of the same-account ECR repository the image is pulled from."
  value       = try(aws_ecr_repository.this[0].repository_url, null)
}
