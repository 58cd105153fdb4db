"""Running Terraform: the work copy, the commands, batches, the toolchain and the network guard."""
