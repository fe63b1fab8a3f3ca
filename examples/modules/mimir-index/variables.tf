variable "project_name" {
  type        = string
  description = "CloudPosse namespace"
}

variable "environment" {
  type        = string
  description = "CloudPosse stage"
}

variable "billing_mode" {
  type    = string
  default = "PROVISIONED"
}

variable "table_class" {
  type    = string
  default = "STANDARD"
}

variable "autoscaling_enabled" {
  type    = bool
  default = true
}

variable "min_capacity" {
  type    = number
  default = 5
}

variable "max_capacity" {
  type    = number
  default = 20
}

variable "gsi_capacity" {
  type    = number
  default = 5
}

variable "server_side_encryption_enabled" {
  type    = bool
  default = true
}

variable "kms_key_arn" {
  type    = string
  default = null
}

variable "point_in_time_recovery_enabled" {
  type    = bool
  default = true
}

variable "ttl_enabled" {
  type    = bool
  default = true
}

variable "enable_streams" {
  type    = bool
  default = false
}

variable "replica_regions" {
  type    = list(string)
  default = []
}

variable "tags" {
  type    = map(string)
  default = {}
}
