module "x" {
  source = "../../_outside/module"
}
