variable "region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "us-east-1"
}

variable "environment" {
  description = "Environment name, carried as a tag."
  type        = string
  default     = "dev"
}

variable "audit_tags" {
  description = "Tags of the audit resources."
  type        = map(string)
  default     = { DataClass = "restricted" }
}
