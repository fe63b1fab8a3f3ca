resource "aws_dynamodb_table" "redos" {
  name         = regex("(a+)+$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!")
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }
}
