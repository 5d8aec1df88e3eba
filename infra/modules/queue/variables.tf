variable "name" {
  description = "Physical queue name."
  type        = string
  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,80}$", var.name))
    error_message = "An SQS queue name is 1-80 characters of a-z, A-Z, 0-9, _ and -."
  }
}

variable "dead_letter_queue_name" {
  description = "Physical name of the dead-letter queue created beside it, or null for none."
  type        = string
  default     = null
}

variable "visibility_timeout_seconds" {
  description = "How long a received message stays hidden; at least the consumer function's timeout."
  type        = number
  default     = 60
  validation {
    condition     = var.visibility_timeout_seconds >= 0 && var.visibility_timeout_seconds <= 43200
    error_message = "visibility_timeout_seconds must be between 0 and 43200."
  }
}

variable "max_receive_count" {
  description = "Receives before a message moves to the dead-letter queue."
  type        = number
  default     = 5
  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000
    error_message = "max_receive_count must be between 1 and 1000."
  }
}

variable "message_retention_seconds" {
  description = "How long the dead-letter queue keeps a message (the main queue keeps the SQS default of 4 days)."
  type        = number
  default     = 1209600
  validation {
    condition     = var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600
    error_message = "message_retention_seconds must be between 60 and 1209600."
  }
}

variable "holds_failures" {
  description = "The queue itself holds failed work (a dead-letter queue by role): alarm when it holds messages and keep them message_retention_seconds."
  type        = bool
  default     = false
}

variable "alarm_actions" {
  description = "ARNs notified when the dead-letter queue holds messages."
  type        = list(string)
}

variable "tags" {
  description = "Tags for every resource of this module."
  type        = map(string)
  default     = {}
}
