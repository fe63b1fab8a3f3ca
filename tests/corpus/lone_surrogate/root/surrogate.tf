resource "aws_dynamodb_table" "formatted" {
  name         = "corpus-formatted"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
  tags = { Owner = jsondecode("\"\\ud800\"") }
}

resource "aws_dynamodb_table" "decoded" {
  name         = jsondecode("\"corpus-\\udc00\"")
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}
