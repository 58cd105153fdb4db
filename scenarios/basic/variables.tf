variable "name_prefix" {
  description = "Prefix for every resource name (role, repository, log group, family, ...). Use a different prefix per concurrently deployed scenario in one account."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,30}$", var.name_prefix))
    error_message = "The name_prefix must be 1-31 characters of lowercase letters, digits and hyphens, starting with a letter or digit."
  }
}

variable "region" {
  description = "AWS region to deploy into (also used as the awslogs-region of the containers)."
  type        = string
  default     = "us-east-1"
  nullable    = false
}

variable "log_retention_days" {
  description = "Retention in days of every CloudWatch Logs log group created by the scenario."
  type        = number
  default     = 14
  nullable    = false
}

variable "tags" {
  description = "Tags applied to every taggable resource."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "create_task_definition" {
  description = "Create the ECS task definition(s). Set false on a target without ECS (free LocalStack): every other resource is still created and the task_definition_arn/family outputs are null."
  type        = bool
  default     = true
  nullable    = false
}

variable "create_repository" {
  description = "Create the ECR repository and pull the image from it. Set false on a target without ECR (free LocalStack): the image is then fallback_image, the role gets no ECR statements, and the repository outputs are null."
  type        = bool
  default     = true
  nullable    = false
}

variable "fallback_image" {
  description = "Image used when create_repository is false (outside ECR, so it needs no ECR permission)."
  type        = string
  default     = "public.ecr.aws/docker/library/nginx:stable"
  nullable    = false
}
