locals {
  # café in Latin-1
  a = 1
}
