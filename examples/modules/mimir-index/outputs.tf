output "table_name" {
  value = module.mimir_index_table.table_name
}
