resource "aws_dynamodb_table" "many" {
  count = 100000000
  name         = "many-${count.index}"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }
}
