# Outside every case repository: driftwatch must never read this file.
resource "aws_dynamodb_table" "stolen" {
  name         = "LEAKED-CANARY-TABLE"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}
