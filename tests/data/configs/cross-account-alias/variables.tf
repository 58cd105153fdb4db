variable "registry_role_arn" {
  description = "Role assumed in the shared registry account"
  type        = string
}
