variable "region" {
  description = "Region of the service"
  type        = string
  default     = "us-east-1"
}

variable "image_tag" {
  description = "Image tag CI pushes after the infrastructure"
  type        = string
  default     = "2024.06.1"
}

variable "grant_secrets" {
  description = "Whether the execution role may read the service's secrets"
  type        = bool
  default     = true
}
