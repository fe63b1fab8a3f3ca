locals {
  big = 1e4900
}

resource "aws_dynamodb_table" "huge" {
  name           = "corpus-huge"
  billing_mode   = "PROVISIONED"
  read_capacity  = local.big
  write_capacity = 5
  hash_key       = "id"
  attribute {
    name = "id"
    type = "S"
  }
  tags = {
    Size   = length("n${local.big}")
    Digits = length(format("%d", local.big))
    Hex    = substr(format("%x", local.big), 0, 10)
    Json   = length(jsonencode([local.big]))
  }
}

resource "aws_dynamodb_table" "tiny" {
  name         = "corpus-tiny"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
  tags = { Tiny = 1e-4900 }
}
