module "loop" {
  source = "./loop"
}
