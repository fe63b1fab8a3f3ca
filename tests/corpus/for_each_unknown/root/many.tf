resource "aws_dynamodb_table" "many" {
  for_each = toset(data.aws_x.y.names)
  name         = each.key
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }
}
