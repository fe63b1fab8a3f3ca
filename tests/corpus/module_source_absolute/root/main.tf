module "x" {
  source = "/etc"
}
