project_name      = "acme"
environment       = "prod"
mimir_table_class = "STANDARD_INFREQUENT_ACCESS"
max_capacity      = 40

tables = {
  orders = {
    hash_key      = "order_id"
    range_key     = "created_at"
    ttl_attribute = "expires_at"
  }
  sessions = {
    hash_key = "session_id"
  }
}
