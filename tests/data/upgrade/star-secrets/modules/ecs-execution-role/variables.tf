variable "service_name" {
  description = "Short name of the ECS service this role belongs to. Used to derive the role name when `role_name` is null."
  type        = string
  nullable    = false

  validation {
    condition     = length(var.service_name) > 0
    error_message = "The service_name must not be empty."
  }
}

variable "role_name" {
  description = "Name of the IAM role. Defaults to \"<service_name>-execution\" when null."
  type        = string
  default     = null
}

variable "secret_arns" {
  description = "ARNs of Secrets Manager secrets the ECS agent may read to inject container secrets (statement `ReadSecrets`). Use the plain secret ARN, not the `:json-key::` valueFrom form."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "ssm_parameter_arns" {
  description = "ARNs of SSM parameters the ECS agent may read to inject container secrets (statement `ReadParameters`)."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "kms_key_arns" {
  description = "ARNs of customer-managed KMS keys that encrypt the secrets or SecureString parameters (statement `DecryptSecrets`)."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "ecr_repository_arns" {
  description = "ARNs of ECR repositories the task's images are pulled from (statements `PullFromECR` and `GetECRAuthorizationToken`). May be in another account."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "log_group_arns" {
  description = "ARNs of CloudWatch Logs log groups the awslogs driver writes to (statement `WriteLogs`). Either form is accepted, with or without the trailing \":*\"."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "attach_execution_managed_policy" {
  description = "Attach the AWS managed policy AmazonECSTaskExecutionRolePolicy, which grants the ECR pull actions, ecr:GetAuthorizationToken and logs:CreateLogStream / logs:PutLogEvents on \"*\". Set to false for a role that carries only the module's least-privilege inline statements."
  type        = bool
  default     = true
  nullable    = false
}

variable "managed_policy_arns" {
  description = "Extra managed policy ARNs to attach (in addition to AmazonECSTaskExecutionRolePolicy when `attach_execution_managed_policy` is true). Must be known at plan time (they are used as for_each keys)."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "permissions_boundary" {
  description = "ARN of the policy used as the role's permissions boundary, or null for none."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags applied to the IAM role."
  type        = map(string)
  default     = {}
  nullable    = false
}
