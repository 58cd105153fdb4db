db_password = "change-me-in-the-pipeline"
