variable "name_prefix" {
  description = "Start of every resource name."
  type        = string
  nullable    = false
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "us-east-1"
}

variable "tags" {
  description = "Tags for every resource (the harness passes its ownership tags here on providers without default_tags)."
  type        = map(string)
  default     = {}
}
