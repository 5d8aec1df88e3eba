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

variable "environment" {
  description = "The environment deployment_file was resolved for (`python -m arcadeflow.deployment --environment <env> --output <file>`): its physical names are <project>-<environment>-<logical> and every resource is tagged Environment. Must equal the file's own; null: the default file's names, <project>-<logical>."
  type        = string
  default     = null
  validation {
    condition     = var.environment == null || can(regex("^[a-z][a-z0-9]{0,15}$", coalesce(var.environment, "-")))
    error_message = "environment is 1-16 lowercase letters and digits starting with a letter (e.g. dev, staging, prod), or null."
  }
}

variable "point_in_time_recovery" {
  description = "Continuous backups (point-in-time recovery): true on every table, false on none; null: the tables whose description sets pointInTimeRecovery (data kept forever)."
  type        = bool
  default     = null
}

variable "table_kms_key_arn" {
  description = "Customer-managed KMS key for every table's encryption at rest (unless table_kms_key_arns names the table); null: the AWS-managed key aws/dynamodb."
  type        = string
  default     = null
  validation {
    condition     = var.table_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", coalesce(var.table_kms_key_arn, "-")))
    error_message = "table_kms_key_arn must be a KMS key ARN: arn:aws:kms:<region>:<account>:key/<key id>."
  }
}

variable "table_kms_key_arns" {
  description = "Per-table customer-managed KMS keys by logical table name, overriding table_kms_key_arn, e.g. { player_rewards = \"arn:aws:kms:us-east-1:123456789012:key/...\" }."
  type        = map(string)
  default     = {}
  validation {
    condition     = alltrue([for k in keys(var.table_kms_key_arns) : contains(keys(local.tables), k)])
    error_message = "table_kms_key_arns names a table the deployment file does not declare: ${join(", ", [for k in keys(var.table_kms_key_arns) : k if !contains(keys(local.tables), k)])}."
  }
  validation {
    condition     = alltrue([for v in values(var.table_kms_key_arns) : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", v))])
    error_message = "Every value of table_kms_key_arns must be a KMS key ARN: arn:aws:kms:<region>:<account>:key/<key id>."
  }
}

variable "table_replicas" {
  description = "Regions every table is replicated to (DynamoDB global tables, version 2019.11.21), except those whose description sets \"replicated\": false. Each replica may have its own KMS key (in its region; null: aws/dynamodb there) and point-in-time recovery (null: the table's). Replicated tables stream NEW_AND_OLD_IMAGES and must be on demand. Empty: single-region tables."
  type = list(object({
    region                 = string
    kms_key_arn            = optional(string)
    point_in_time_recovery = optional(bool)
  }))
  default = []
  validation {
    condition     = alltrue([for r in var.table_replicas : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", r.region))]) && length(distinct([for r in var.table_replicas : r.region])) == length(var.table_replicas)
    error_message = "Each table_replicas region must look like eu-west-1 and appear once."
  }
  validation {
    condition     = !contains([for r in var.table_replicas : r.region], var.region)
    error_message = "table_replicas lists the deployment's own region (${var.region}): the table is already there; list only the other regions."
  }
  validation {
    condition     = alltrue([for r in var.table_replicas : r.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:${r.region}:[0-9]{12}:key/[A-Za-z0-9-]+$", coalesce(r.kms_key_arn, "-")))])
    error_message = "A replica's kms_key_arn must be a KMS key ARN in that replica's region (a KMS key belongs to one region)."
  }
}

variable "table_deletion_protection" {
  description = "Refuse to delete tables (set false and apply before terraform destroy)."
  type        = bool
  default     = false
}

variable "table_capacity" {
  description = "Per-table billing overrides by logical table name, e.g. { follows = { billing_mode = \"PROVISIONED\", read = 50, write = 100, indexes = { FollowedBy = { read = 20, write = 100 } } } }. An index not named gets the table's read and write. Tables not named keep the description's setting (provisioned there, else PAY_PER_REQUEST)."
  type = map(object({
    billing_mode = string
    read         = optional(number, 5)
    write        = optional(number, 5)
    indexes = optional(map(object({
      read  = number
      write = number
    })), {})
  }))
  default = {}
  validation {
    condition     = alltrue([for c in values(var.table_capacity) : contains(["PAY_PER_REQUEST", "PROVISIONED"], c.billing_mode) && c.read >= 1 && c.write >= 1 && alltrue([for i in values(c.indexes) : i.read >= 1 && i.write >= 1])])
    error_message = "billing_mode must be PAY_PER_REQUEST or PROVISIONED; read and write (of the table and of each index) at least 1."
  }
  validation {
    condition     = alltrue([for k in keys(var.table_capacity) : contains(keys(local.tables), k)])
    error_message = "table_capacity names a table the deployment file does not declare: ${join(", ", [for k in keys(var.table_capacity) : k if !contains(keys(local.tables), k)])}."
  }
  validation {
    condition = alltrue(flatten([for k, c in var.table_capacity : [for i in keys(c.indexes) :
    contains(keys(lookup(local.tables, k, { indexes = {} }).indexes), i)]]))
    error_message = "table_capacity gives capacity to an index its table does not declare: ${join(", ", flatten([for k, c in var.table_capacity : [for i in keys(c.indexes) : "${k}.${i}" if !contains(keys(lookup(local.tables, k, { indexes = {} }).indexes), i)]]))}."
  }
  validation {
    condition     = alltrue([for c in values(var.table_capacity) : c.billing_mode == "PROVISIONED" || length(c.indexes) == 0])
    error_message = "table_capacity: index capacities apply to PROVISIONED tables only."
  }
}

variable "table_throttle_alarms" {
  description = "Read and write throttling alarms on every table and index (false: none)."
  type        = bool
  default     = true
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
  description = "Origins browsers may call the HTTP API from (scheme://host[:port], or \"*\"), as `arcadeflow up --cors-origin` locally; empty for no CORS configuration. The rest of it (headers, max age) is the description's httpApi.cors."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for o in var.cors_allowed_origins : o == "*" || can(regex("^https?://[^/?#[:space:]]+$", o))])
    error_message = "An origin is scheme://host[:port] with no path or trailing slash (a browser's Origin never has one), or \"*\"."
  }
}

variable "alarm_topic_arns" {
  description = "SNS topics every alarm (tables, queues, state machines) notifies: several, or [] for alarms that only show in CloudWatch; null: create <name>-alarms (subscribe to it yourself)."
  type        = list(string)
  default     = null
  validation {
    condition     = var.alarm_topic_arns == null || alltrue([for a in coalesce(var.alarm_topic_arns, []) : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", a))])
    error_message = "alarm_topic_arns must be SNS topic ARNs (arn:aws:sns:<region>:<account>:<topic>)."
  }
}

variable "tags" {
  description = "Tags added to every resource (Project and Stage are always set, Environment when the deployment file was resolved for one)."
  type        = map(string)
  default     = {}
}
