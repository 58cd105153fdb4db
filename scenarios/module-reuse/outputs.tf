output "services" {
  description = "Per-service facts keyed by service short name (api, worker, scheduler): roles, task definition, log group and the ARN lists declared to the role modules."
  value = tomap({
    for svc in keys(local.services) : svc => {
      execution_role_arn  = module.execution_role[svc].arn
      execution_role_name = module.execution_role[svc].name
      task_role_arn       = tostring(null)
      task_role_name      = tostring(null)
      task_definition_arn = try(aws_ecs_task_definition.this[svc].arn, null)
      family              = try(aws_ecs_task_definition.this[svc].family, null)
      log_group_name      = aws_cloudwatch_log_group.this[svc].name
      log_group_arn       = aws_cloudwatch_log_group.this[svc].arn
      log_retention_days  = aws_cloudwatch_log_group.this[svc].retention_in_days
      declared            = local.declared[svc]
      task_declared = {
        s3_bucket_arns      = tolist([])
        dynamodb_table_arns = tolist([])
      }
    }
  })
}
