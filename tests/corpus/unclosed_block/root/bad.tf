module "x" {
  source = "./x"
