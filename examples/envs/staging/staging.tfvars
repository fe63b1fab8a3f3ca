project_name = "acme"
environment  = "staging"
billing_mode = "PAY_PER_REQUEST"

tables = {
  orders = {
    hash_key      = "order_id"
    range_key     = "created_at"
    ttl_attribute = "expires_at"
  }
}
