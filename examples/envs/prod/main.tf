terraform {
  required_version = ">= 1.3"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

provider "aws" {
  region = var.region
}

locals {
  common_tags = {
    Team        = "observability"
    Environment = var.environment
  }
}

# The CloudPosse label, passed on as `context` (the null-label convention).
module "label" {
  source  = "cloudposse/label/null"
  version = "0.25.0"

  namespace = var.project_name
  stage     = var.environment
  tags      = local.common_tags
}

module "mimir_index" {
  source = "../../modules/mimir-index"

  project_name        = var.project_name
  environment         = var.environment
  billing_mode        = var.billing_mode
  table_class         = var.mimir_table_class
  enable_streams      = true
  min_capacity        = var.min_capacity
  max_capacity        = var.max_capacity
  tags                = local.common_tags
}

# Smaller tables, one module instance each.
module "tables" {
  for_each = var.tables

  source  = "cloudposse/dynamodb/aws"
  version = "~> 0.37"
  context = module.label.context

  name         = each.key
  hash_key     = each.value.hash_key
  range_key    = lookup(each.value, "range_key", "")
  billing_mode = "PAY_PER_REQUEST"
  ttl_enabled  = each.value.ttl_attribute != null
  ttl_attribute = coalesce(each.value.ttl_attribute, "Expires")

  deletion_protection_enabled = var.environment == "prod"
  tags = {
    Component = each.key
  }
}

output "mimir_index_table" {
  value = module.mimir_index.table_name
}
