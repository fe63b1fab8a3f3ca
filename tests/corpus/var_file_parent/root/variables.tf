variable "name" {
  default = "safe"
}
