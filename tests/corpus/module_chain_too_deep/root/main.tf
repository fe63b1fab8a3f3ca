module "chain" {
  source = "../modules/m0"
}
