locals {
  big = join("", [for i in range(1000) : "lorem ipsum dolor sit amet, consectetur adipiscing elit. duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum. sed ut perspiciatis unde omnis iste natus error sit voluptatem accusantium doloremque laudantium, totam rem aperiam, eaque ipsa quae ab illo inventore veritatis et quasi architecto beatae vitae dicta sunt explicabo. nemo enim ipsam voluptatem quia voluptas sit aspernatur aut odit aut fugit, sed quia consequuntur magni dolores eos qui ratione voluptatem sequi nesciunt."])
}

resource "aws_dynamodb_table" "title" {
  name         = "corpus-title"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  tags         = { N = length([for i in range(1000) : length(title(local.big))]) }

  attribute {
    name = "id"
    type = "S"
  }
}
