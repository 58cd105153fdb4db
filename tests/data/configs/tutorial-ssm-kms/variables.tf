variable "region" {
  description = "Region to deploy to"
  type        = string
  default     = "us-east-1"
}
