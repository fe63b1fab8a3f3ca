resource "aws_dynamodb_table" "bomb" {
  name         = "corpus-bomb"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  tags         = { Size = length([for a in range(1000) : [for b in range(1000) : [for c in range(1000) : c]]]) }

  attribute {
    name = "id"
    type = "S"
  }
}
