"""What was built: ARNs and the inventory read from Terraform's state."""
