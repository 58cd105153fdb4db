variable "db_password" {
  description = "Database password stored in Secrets Manager"
  type        = string
  sensitive   = true
}
