# The one good table of this case: it must still be declared and checked.
resource "aws_dynamodb_table" "good" {
  name         = "corpus-good"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }
}
