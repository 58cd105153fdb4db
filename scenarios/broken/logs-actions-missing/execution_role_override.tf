# BROKEN: no log action on the execution role (no managed policy, no log group ARN: no WriteLogs).
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html
module "execution_role" {
  attach_execution_managed_policy = false
  log_group_arns                  = []
}
