provider "registry.terraform.io/hashicorp/random" {
  version = "3.6.0"
}
