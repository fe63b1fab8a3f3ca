resource "aws_dynamodb_table" "typed" {
  name         = "corpus-typed"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  tags         = { Capacity = var.capacity }

  attribute {
    name = "id"
    type = "S"
  }
}
