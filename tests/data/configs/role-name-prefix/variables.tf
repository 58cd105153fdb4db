variable "service" {
  type        = string
  description = "The service whose tasks the role starts; the role's name starts with it."
  default     = "payments-reconciliation"
  nullable    = false
}
