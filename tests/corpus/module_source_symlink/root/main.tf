module "x" {
  source = "./linked"
}
