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
  description = "Name of the IAM role. Defaults to \"<service_name>-task\" when null."
  type        = string
  default     = null
}

variable "s3_bucket_arns" {
  description = "ARNs of S3 buckets the application may list and read/write/delete objects in (statements `S3ListBucket` and `S3ObjectAccess`)."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "dynamodb_table_arns" {
  description = "ARNs of DynamoDB tables (and, implicitly, their indexes) the application may read and write items in (statement `DynamoDBItemAccess`)."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "managed_policy_arns" {
  description = "Managed policy ARNs to attach to the task role. Must be known at plan time (they are used as for_each keys)."
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
