variable "repository_name" {
  description = "Name of an existing ECR repository in the registry account (the account of the provider passed to this module)."
  type        = string
  nullable    = false

  validation {
    condition     = length(var.repository_name) > 0
    error_message = "The repository_name must not be empty."
  }
}

variable "puller_role_arns" {
  description = "IAM role ARNs (typically ECS task execution roles in other accounts) allowed to pull images from the repository."
  type        = list(string)
  nullable    = false

  validation {
    condition = length(var.puller_role_arns) > 0 && alltrue([
      for arn in var.puller_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", arn))
    ])
    error_message = "The puller_role_arns must be a non-empty list of IAM role ARNs (arn:<partition>:iam::<12-digit account>:role/<name>)."
  }
}
