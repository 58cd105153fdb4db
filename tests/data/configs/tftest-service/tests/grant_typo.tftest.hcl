# The secret's grant names another secret: Terraform's asserts pass, the task would not start.
run "applies_with_the_typo" {
  variables {
    grant_secret = false
  }

  assert {
    condition     = output.family == "billing"
    error_message = "the family output is not billing"
  }
}
