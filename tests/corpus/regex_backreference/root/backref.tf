resource "aws_dynamodb_table" "backref" {
  name         = replace("aa-bb", "/(a)\\1/", "x")
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }
}
