# BROKEN: no ECR action on the execution role (no managed policy, no repository ARN: only WriteLogs is left).
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
module "execution_role" {
  attach_execution_managed_policy = false
  ecr_repository_arns             = []
}
