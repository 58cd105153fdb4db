provider "aws" {
  endpoints {
    sts = "https://sts.amazonaws.com"
  }
}
