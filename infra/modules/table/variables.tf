variable "name" {
  description = "Physical table name, as the loader resolved it: <project>[-<environment>]-<logical name with _ as ->."
  type        = string
  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{3,255}$", var.name))
    error_message = "A DynamoDB table name is 3-255 characters of a-z, A-Z, 0-9, _, - and . only."
  }
}

variable "partition_key" {
  description = "Partition (HASH) key attribute of the table."
  type        = object({ name = string, type = string })
  validation {
    condition     = contains(["S", "N", "B"], var.partition_key.type)
    error_message = "Key attribute type must be S, N or B."
  }
}

variable "sort_key" {
  description = "Sort (RANGE) key attribute of the table, or null for a partition key only."
  type        = object({ name = string, type = string })
  default     = null
  validation {
    condition     = var.sort_key == null || contains(["S", "N", "B"], try(var.sort_key.type, ""))
    error_message = "Key attribute type must be S, N or B."
  }
}

variable "indexes" {
  description = "Global secondary indexes by name: their keys, projection and, when billing_mode is PROVISIONED, their own read and write capacity (null: the table's)."
  type = map(object({
    partition_key  = object({ name = string, type = string })
    sort_key       = optional(object({ name = string, type = string }))
    projection     = optional(string, "ALL")
    read_capacity  = optional(number)
    write_capacity = optional(number)
  }))
  default = {}
  validation {
    condition     = alltrue([for i in values(var.indexes) : contains(["ALL", "KEYS_ONLY"], i.projection)])
    error_message = "Index projection must be ALL or KEYS_ONLY."
  }
  validation {
    condition     = alltrue([for i in values(var.indexes) : (i.read_capacity == null || coalesce(i.read_capacity, 1) >= 1) && (i.write_capacity == null || coalesce(i.write_capacity, 1) >= 1)])
    error_message = "An index's read_capacity and write_capacity must be at least 1 (or null for the table's)."
  }
  validation {
    condition     = var.billing_mode == "PROVISIONED" || alltrue([for i in values(var.indexes) : i.read_capacity == null && i.write_capacity == null])
    error_message = "Index capacities apply to PROVISIONED tables only: an on-demand table's indexes are on demand too."
  }
}

variable "stream_view_type" {
  description = "DynamoDB Streams view type, or null for no stream."
  type        = string
  default     = null
  validation {
    condition     = var.stream_view_type == null || contains(["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"], coalesce(var.stream_view_type, "KEYS_ONLY"))
    error_message = "stream_view_type must be NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES or KEYS_ONLY."
  }
}

variable "ttl_attribute" {
  description = "Attribute holding the expiry time (epoch seconds) for DynamoDB TTL, or null for no TTL."
  type        = string
  default     = null
}

variable "billing_mode" {
  description = "PAY_PER_REQUEST (on demand) or PROVISIONED (read_capacity and write_capacity apply)."
  type        = string
  default     = "PAY_PER_REQUEST"
  validation {
    condition     = contains(["PAY_PER_REQUEST", "PROVISIONED"], var.billing_mode)
    error_message = "billing_mode must be PAY_PER_REQUEST or PROVISIONED."
  }
}

variable "read_capacity" {
  description = "Read capacity units of the table and each index when billing_mode is PROVISIONED (null when on demand)."
  type        = number
  default     = null
  validation {
    condition     = var.read_capacity == null ? var.billing_mode == "PAY_PER_REQUEST" : var.read_capacity >= 1
    error_message = "read_capacity must be at least 1, and is required with billing_mode PROVISIONED."
  }
}

variable "write_capacity" {
  description = "Write capacity units of the table and each index when billing_mode is PROVISIONED (null when on demand)."
  type        = number
  default     = null
  validation {
    condition     = var.write_capacity == null ? var.billing_mode == "PAY_PER_REQUEST" : var.write_capacity >= 1
    error_message = "write_capacity must be at least 1, and is required with billing_mode PROVISIONED."
  }
}

variable "point_in_time_recovery" {
  description = "Keep continuous backups (point-in-time recovery, 35 days)."
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for server-side encryption, or null for the AWS-managed key aws/dynamodb."
  type        = string
  default     = null
  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", coalesce(var.kms_key_arn, "-")))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>); DynamoDB does not take an alias here."
  }
}

variable "replicas" {
  description = "Regions to replicate the table to (a DynamoDB global table, version 2019.11.21), each with its own KMS key (null: that region's aws/dynamodb key) and point-in-time recovery (null: the table's setting). Empty: a single-region table."
  type = list(object({
    region                 = string
    kms_key_arn            = optional(string)
    point_in_time_recovery = optional(bool)
  }))
  default = []
  validation {
    condition     = alltrue([for r in var.replicas : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", r.region))]) && length(distinct([for r in var.replicas : r.region])) == length(var.replicas)
    error_message = "Each replica region must look like eu-west-1 and appear once."
  }
  validation {
    # A KMS key belongs to one region: the replica's key must be in the replica's region.
    condition     = alltrue([for r in var.replicas : r.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:${r.region}:[0-9]{12}:key/[A-Za-z0-9-]+$", coalesce(r.kms_key_arn, "-")))])
    error_message = "A replica's kms_key_arn must be a KMS key ARN in the replica's own region."
  }
}

variable "deletion_protection" {
  description = "Refuse DeleteTable while set (turn off before terraform destroy)."
  type        = bool
  default     = false
}

variable "throttle_alarms" {
  description = "Create read and write throttling alarms for the table and each index."
  type        = bool
  default     = true
}

variable "alarm_actions" {
  description = "ARNs notified when a throttling alarm fires or recovers: SNS topics, none (the alarm only shows in CloudWatch) or several."
  type        = list(string)
  default     = []
}

variable "throttle_alarm_threshold" {
  description = "Throttled requests per 5 minutes on the table or one index that raise an alarm."
  type        = number
  default     = 1
  validation {
    condition     = var.throttle_alarm_threshold >= 1
    error_message = "throttle_alarm_threshold must be at least 1."
  }
}

variable "tags" {
  description = "Tags for every resource of this module."
  type        = map(string)
  default     = {}
}
