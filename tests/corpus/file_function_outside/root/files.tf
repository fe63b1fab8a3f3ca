# file() of paths that leave the repository, a symlink out of it and a file over the size limit:
# none is read (each tag is unresolved, with the reason); the table is still checked.
resource "aws_dynamodb_table" "files" {
  name         = "corpus-files"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }

  tags = {
    escape = file("../../_outside/secret.tfvars")
    exists = fileexists("../../_outside/secret.tfvars") ? "yes" : "no"
    link   = file("link.txt")
    big    = filesha256("big.yaml")
  }
}
