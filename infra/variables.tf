variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "us-east-1"
  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must look like us-east-1."
  }
}

variable "stage" {
  description = "Stage name: the WebSocket API stage and ARCADEFLOW_STAGE of every function."
  type        = string
  default     = "prod"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,31}$", var.stage))
    error_message = "stage is 1-32 characters of a-z, 0-9 and -, starting with a letter."
  }
}

variable "deployment_file" {
  description = "The resolved deployment description Terraform maps onto resources, written by `python -m arcadeflow.deployment --write` (or `python -m arcadeflow.deployment <description> --output <file>`). null: infra/deployment.resolved.json, generated from infra/deployment.json and checked in."
  type        = string
  default     = null
  validation {
    condition     = var.deployment_file == null || can(jsondecode(file(coalesce(var.deployment_file, "/"))).formatVersion)
    error_message = "deployment_file must be a resolved description of formatVersion 1: run `python -m arcadeflow.deployment <description> --output <file>` and pass that file, not the description itself."
  }
}

variable "package_path" {
  description = "Zip of functions/ built by `python infra/package_functions.py`. null: infra/build/functions.zip."
  type        = string
  default     = null
}

variable "lambda_runtime" {
  description = "Python runtime of every function (the Powertools layer name follows it)."
  type        = string
  default     = "python3.11"
  validation {
    condition     = contains(["python3.11", "python3.12", "python3.13"], var.lambda_runtime)
    error_message = "lambda_runtime must be python3.11, python3.12 or python3.13."
  }
}

variable "lambda_architecture" {
  description = "Instruction set of every function: x86_64 or arm64."
  type        = string
  default     = "x86_64"
  validation {
    condition     = contains(["x86_64", "arm64"], var.lambda_architecture)
    error_message = "lambda_architecture must be x86_64 or arm64."
  }
}

variable "attach_powertools_layer" {
  description = "Give every function AWS's public Powertools for AWS Lambda (Python) v3 layer (Powertools, pydantic, aws-xray-sdk). false: the package must bundle them (package_functions.py --bundle-dependencies)."
  type        = bool
  default     = true
}

variable "powertools_layer_version" {
  description = "Version of the public layer AWSLambdaPowertoolsPythonV3-<runtime>-<arch>; pick the one that ships the Powertools release pinned in pyproject.toml."
  type        = number
  default     = 27
  validation {
    condition     = var.powertools_layer_version >= 1 && floor(var.powertools_layer_version) == var.powertools_layer_version
    error_message = "powertools_layer_version is a positive whole number."
  }
}

variable "xray_tracing" {
  description = "X-Ray tracing of functions and state machines. Its write actions are the only IAM actions granted on Resource \"*\" (they have no resource types)."
  type        = bool
  default     = true
}

variable "state_machine_log_level" {
  description = "Execution history logged by every state machine: ALL, ERROR, FATAL or OFF."
  type        = string
  default     = "ALL"
  validation {
    condition     = contains(["ALL", "ERROR", "FATAL", "OFF"], var.state_machine_log_level)
    error_message = "state_machine_log_level must be ALL, ERROR, FATAL or OFF."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch Logs keeps function, state machine and API logs."
  type        = number
  default     = 14
  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "point_in_time_recovery" {
  description = "Continuous backups (point-in-time recovery) on every table."
  type        = bool
  default     = false
}

variable "table_kms_key_arn" {
  description = "Customer-managed KMS key for every table's encryption at rest; null: the AWS-managed key aws/dynamodb."
  type        = string
  default     = null
}

variable "table_deletion_protection" {
  description = "Refuse to delete tables (set false and apply before terraform destroy)."
  type        = bool
  default     = false
}

variable "table_capacity" {
  description = "Per-table billing overrides by logical table name, e.g. { follows = { billing_mode = \"PROVISIONED\", read = 50, write = 100 } }. Tables not named keep the description's setting (provisioned there, else PAY_PER_REQUEST)."
  type = map(object({
    billing_mode = string
    read         = optional(number, 5)
    write        = optional(number, 5)
  }))
  default = {}
  validation {
    condition     = alltrue([for c in values(var.table_capacity) : contains(["PAY_PER_REQUEST", "PROVISIONED"], c.billing_mode) && c.read >= 1 && c.write >= 1])
    error_message = "billing_mode must be PAY_PER_REQUEST or PROVISIONED; read and write at least 1."
  }
}

variable "jwt_issuer" {
  description = "Issuer of the JWTs the HTTP API accepts (an existing Cognito user pool: https://cognito-idp.<region>.amazonaws.com/<pool id>). null: create a user pool and app client."
  type        = string
  default     = null
  validation {
    condition     = var.jwt_issuer == null || startswith(coalesce(var.jwt_issuer, "https://"), "https://")
    error_message = "jwt_issuer must be an https:// URL."
  }
}

variable "jwt_audiences" {
  description = "Accepted aud claims (app client ids) when jwt_issuer is given."
  type        = list(string)
  default     = []
  validation {
    condition     = var.jwt_issuer == null || length(var.jwt_audiences) > 0
    error_message = "jwt_audiences is required with jwt_issuer."
  }
}

variable "jwt_jwks_url" {
  description = "Where the WebSocket $connect authorizer fetches the issuer's signing keys (JWKS). null: <issuer>/.well-known/jwks.json, where Cognito publishes them. Set it when applying against the embedded AWS (its HTTP API port serves the local key)."
  type        = string
  default     = null
  validation {
    condition     = var.jwt_jwks_url == null || can(regex("^https?://", coalesce(var.jwt_jwks_url, "https://")))
    error_message = "jwt_jwks_url must be an http(s):// URL."
  }
}

variable "cors_allowed_origins" {
  description = "Origins browsers may call the HTTP API from; empty for no CORS."
  type        = list(string)
  default     = []
}

variable "alarm_topic_arn" {
  description = "SNS topic every alarm notifies; null: create <name>-alarms (subscribe to it yourself)."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource (Project and Stage are always set)."
  type        = map(string)
  default     = {}
}
