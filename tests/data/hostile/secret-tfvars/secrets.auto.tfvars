parameter_type = "planted-tfvars-7f3a9c2e41d8"
