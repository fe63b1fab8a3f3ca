# The platform team's wrapper around the CloudPosse module (from the seed document):
# one metrics-index table per environment.
module "mimir_index_table" {
  source  = "cloudposse/dynamodb/aws"
  version = "~> 0.35.0"

  # CloudPosse naming
  namespace = var.project_name
  stage     = var.environment
  name      = "mimir-index"

  # Core configuration
  hash_key  = "h"
  range_key = "r"
  dynamodb_attributes = [
    { name = "tenant_id", type = "S" },
    { name = "timestamp", type = "N" },
  ]

  global_secondary_index_map = [
    {
      name               = "tenant-index"
      hash_key           = "tenant_id"
      range_key          = "timestamp"
      projection_type    = "KEYS_ONLY"
      read_capacity      = var.gsi_capacity
      write_capacity     = var.gsi_capacity
      non_key_attributes = []
    }
  ]

  # Performance & scaling
  billing_mode                 = var.billing_mode
  table_class                  = var.table_class
  enable_autoscaler            = var.autoscaling_enabled && var.billing_mode == "PROVISIONED"
  autoscale_min_read_capacity  = var.min_capacity
  autoscale_min_write_capacity = var.min_capacity
  autoscale_max_read_capacity  = var.max_capacity
  autoscale_max_write_capacity = var.max_capacity

  # Security & backup
  enable_encryption                  = var.server_side_encryption_enabled
  server_side_encryption_kms_key_arn = var.kms_key_arn
  enable_point_in_time_recovery      = var.point_in_time_recovery_enabled

  # Data lifecycle
  ttl_enabled   = var.ttl_enabled
  ttl_attribute = "expires_at"

  # Streams for real-time processing
  enable_streams   = var.enable_streams
  stream_view_type = var.enable_streams ? "NEW_AND_OLD_IMAGES" : ""

  # Multi-region HA
  replicas = var.replica_regions

  tags = merge(local.common_tags, {
    Component = "mimir-storage"
    Purpose   = "metrics-index"
  })
}

locals {
  common_tags = merge(var.tags, {
    ManagedBy = "terraform"
  })
}
