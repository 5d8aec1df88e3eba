variable "name" {
  description = "Physical function name; also names its role and log group."
  type        = string
  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,64}$", var.name))
    error_message = "A Lambda function name is 1-64 characters of a-z, A-Z, 0-9, _ and -."
  }
}

variable "handler" {
  description = "Python handler, module path and function (functions.<flow>.<module>.handler)."
  type        = string
}

variable "description" {
  description = "What the function does, shown in the Lambda console."
  type        = string
  default     = ""
}

variable "runtime" {
  description = "Lambda Python runtime."
  type        = string
  validation {
    condition     = contains(["python3.11", "python3.12", "python3.13"], var.runtime)
    error_message = "runtime must be python3.11, python3.12 or python3.13."
  }
}

variable "architecture" {
  description = "Instruction set: x86_64 or arm64 (must match the layers and any native dependencies)."
  type        = string
  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "memory_mb" {
  description = "Memory in MB (CPU scales with it)."
  type        = number
  validation {
    condition     = var.memory_mb >= 128 && var.memory_mb <= 10240
    error_message = "memory_mb must be between 128 and 10240."
  }
}

variable "timeout_seconds" {
  description = "Maximum run time in seconds."
  type        = number
  validation {
    condition     = var.timeout_seconds >= 1 && var.timeout_seconds <= 900
    error_message = "timeout_seconds must be between 1 and 900."
  }
}

variable "package_path" {
  description = "Path of the zip built by infra/package_functions.py."
  type        = string
}

variable "package_hash" {
  description = "base64 SHA-256 of the package, so a code change redeploys the function."
  type        = string
}

variable "layers" {
  description = "Layer version ARNs (the Powertools public layer, unless bundled)."
  type        = list(string)
  default     = []
}

variable "environment" {
  description = "Environment variables: one per resource the function uses (see arcadeflow/deployment.py)."
  type        = map(string)
  default     = {}
}

variable "tables" {
  description = "Tables the function uses, by logical name: ARN, ARNs of all its indexes, and access (read or readwrite)."
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

variable "stream_arns" {
  description = "DynamoDB stream ARNs that feed the function through event source mappings."
  type        = list(string)
  default     = []
}

variable "queues_send" {
  description = "ARNs of the queues the function sends to."
  type        = list(string)
  default     = []
}

variable "queues_consume" {
  description = "ARNs of the queues the function receives from (directly or through an event source mapping)."
  type        = list(string)
  default     = []
}

variable "state_machines_start" {
  description = "ARNs of the state machines the function starts."
  type        = list(string)
  default     = []
}

variable "state_machines_callback" {
  description = "ARNs of the state machines whose task tokens the function completes. SendTaskSuccess/Failure/Heartbeat have no resource types, so any entry grants them on \"*\" (statement TaskTokenActionsHaveNoResourceTypes)."
  type        = list(string)
  default     = []
}

variable "state_machines_describe" {
  description = "Execution ARN patterns (arn:...:execution:<machine name>:*) whose executions the function reads: states:DescribeExecution and states:GetExecutionHistory, e.g. a status route for executions an API route started."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for a in var.state_machines_describe : can(regex("^arn:[^:]+:states:[^:]+:[0-9]+:execution:[^:*]+:\\*$", a))])
    error_message = "Each entry is the executions of one state machine: arn:<partition>:states:<region>:<account>:execution:<machine name>:*."
  }
}

variable "secret_parameter_arns" {
  description = "ARNs of the SSM SecureString parameters (the description's secrets) the function reads. SecureStrings under the AWS-managed key aws/ssm need no KMS grant."
  type        = list(string)
  default     = []
}

variable "websocket_connections_arns" {
  description = "execute-api ARNs of the WebSocket API's @connections (POST, GET, DELETE) the function may push to."
  type        = list(string)
  default     = []
}

variable "xray_tracing" {
  description = "Active X-Ray tracing. X-Ray's write actions have no resource-level permissions, so this adds the one statement with Resource \"*\"."
  type        = bool
}

variable "log_retention_days" {
  description = "Days CloudWatch Logs keeps the function's logs."
  type        = number
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "tags" {
  description = "Tags for every resource of this module."
  type        = map(string)
  default     = {}
}
