run "expects_another_family" {
  assert {
    condition     = output.family == "payments"
    error_message = "the family output is not payments"
  }
}
