variable "region" {
  type    = string
  default = "us-east-1"
}

variable "project_name" {
  type = string
}

variable "environment" {
  type = string
}

variable "billing_mode" {
  type    = string
  default = "PROVISIONED"
}

variable "mimir_table_class" {
  type    = string
  default = "STANDARD"
}

variable "min_capacity" {
  type    = number
  default = 5
}

variable "max_capacity" {
  type    = number
  default = 20
}

variable "tables" {
  type = map(object({
    hash_key      = string
    range_key     = optional(string, "")
    ttl_attribute = optional(string)
  }))
  default = {}
}
