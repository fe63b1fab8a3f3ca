module "tree" {
  source = "../modules/l0"
}
