variable "capacity" {
  type    = number
  default = 5
}
