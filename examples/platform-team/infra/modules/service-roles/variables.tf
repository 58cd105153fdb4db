variable "service" {
  description = "Service name; the roles are named after it"
  type        = string
}

variable "secret_arns" {
  description = "Secrets Manager ARNs the execution role may read"
  type        = list(string)
  default     = []
  nullable    = false
}
