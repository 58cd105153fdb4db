variable "region" {
  description = "Region of the network"
  type        = string
}

variable "environment" {
  description = "Environment name"
  type        = string
}

variable "cidr_block" {
  description = "CIDR block of the VPC"
  type        = string
}
