variable "name" {
  description = "Role name"
  type        = string
}
