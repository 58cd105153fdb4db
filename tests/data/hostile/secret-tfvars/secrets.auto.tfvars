parameter_type = "PLANTED"
