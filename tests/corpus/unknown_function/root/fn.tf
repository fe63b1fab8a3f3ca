resource "aws_dynamodb_table" "mystery" {
  name         = nosuchfunction("x")
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }
}
