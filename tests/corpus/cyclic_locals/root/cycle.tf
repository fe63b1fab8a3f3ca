locals {
  a = local.b
  b = local.c
  c = local.a
}

resource "aws_dynamodb_table" "cyclic" {
  name         = local.a
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }
}
