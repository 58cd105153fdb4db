variable "name_prefix" {
  description = "Prefix for every resource name. Use a different prefix per concurrently deployed copy in one account."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,20}$", var.name_prefix))
    error_message = "The name_prefix must be 1-21 characters of lowercase letters, digits and hyphens (ALB and target group names are limited to 32)."
  }
}

variable "region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "us-east-1"
  nullable    = false
}

variable "tags" {
  description = "Tags applied to every taggable resource."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC; the two subnets take its first two /24 blocks."
  type        = string
  default     = "10.42.0.0/16"
  nullable    = false
}
