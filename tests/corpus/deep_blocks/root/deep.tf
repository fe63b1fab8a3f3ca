resource "aws_dynamodb_table" "nested" {
  name         = "corpus-nested"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  ttl {
  enabled = true
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
  }
}
