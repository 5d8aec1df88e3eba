variable "name" {
  description = "Physical state machine name; also names its role and log group."
  type        = string
  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,80}$", var.name))
    error_message = "A state machine name is 1-80 characters of a-z, A-Z, 0-9, _ and -."
  }
}

variable "definition" {
  description = "The ASL document, already filled by templatefile()."
  type        = string
}

variable "type" {
  description = "STANDARD (long-running, exactly-once) or EXPRESS."
  type        = string
  default     = "STANDARD"
  validation {
    condition     = contains(["STANDARD", "EXPRESS"], var.type)
    error_message = "type must be STANDARD or EXPRESS."
  }
}

variable "functions" {
  description = "ARNs of the Lambda functions the ASL invokes."
  type        = list(string)
  default     = []
}

variable "tables" {
  description = "Tables the ASL calls directly (dynamodb: integrations), by logical name: ARN, index ARNs and access."
  type = map(object({
    arn        = string
    index_arns = list(string)
    access     = string
  }))
  default = {}
  validation {
    condition     = alltrue([for t in values(var.tables) : contains(["read", "readwrite"], t.access)])
    error_message = "Table access must be read or readwrite."
  }
}

variable "queues_send" {
  description = "ARNs of the queues the ASL sends to."
  type        = list(string)
  default     = []
}

variable "state_machines_start" {
  description = "ARNs of the state machines the ASL starts."
  type        = list(string)
  default     = []
}

variable "websocket_connections_arns" {
  description = "execute-api ARNs of @connections the ASL pushes to directly."
  type        = list(string)
  default     = []
}

variable "log_level" {
  description = "Execution history sent to CloudWatch Logs: ALL, ERROR, FATAL or OFF."
  type        = string
  default     = "ALL"
  validation {
    condition     = contains(["ALL", "ERROR", "FATAL", "OFF"], var.log_level)
    error_message = "log_level must be ALL, ERROR, FATAL or OFF."
  }
}

variable "log_execution_data" {
  description = "Include state input and output in the logs (may hold user data)."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Days CloudWatch Logs keeps the execution logs."
  type        = number
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "xray_tracing" {
  description = "X-Ray tracing of executions."
  type        = bool
  default     = true
}

variable "alarm_actions" {
  description = "ARNs notified when an execution fails or times out."
  type        = list(string)
}

variable "tags" {
  description = "Tags for every resource of this module."
  type        = map(string)
  default     = {}
}
