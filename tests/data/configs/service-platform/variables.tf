variable "region" {
  description = "Region of the platform"
  type        = string
  default     = "us-east-1"
}

variable "environment" {
  description = "Environment name, the prefix of every name"
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC"
  type        = string
  default     = "10.20.0.0/16"
}

variable "api_image" {
  description = "Image of the API service"
  type        = string
}

variable "worker_image" {
  description = "Image of the worker service"
  type        = string
}
