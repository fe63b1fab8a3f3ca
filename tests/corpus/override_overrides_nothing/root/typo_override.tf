# Overrides a table no primary file declares (a typo of "good"): Terraform refuses it.
resource "aws_dynamodb_table" "goood" {
  name = "corpus-typo"
}
