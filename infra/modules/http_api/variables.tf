variable "name" {
  description = "Physical API name; also names its log group and the role of its Step Functions integrations."
  type        = string
}

variable "routes" {
  description = <<-EOT
    Routes by route key ("POST /followers"). Each targets exactly one of a Lambda function
    (function: name, invoke_arn) or a state machine started directly by API Gateway's
    StepFunctions-StartExecution integration (state_machine: arn, and request_parameters: how
    the request maps onto StartExecution, e.g. { Name = "$${request.path.id}", Input = "$request.body" };
    Input defaults to the body). auth: require a valid JWT.
  EOT
  type = map(object({
    function = optional(object({ name = string, invoke_arn = string }))
    state_machine = optional(object({
      arn                = string
      request_parameters = optional(map(string), {})
    }))
    auth = bool
  }))
  validation {
    condition     = alltrue([for r in values(var.routes) : (r.function == null) != (r.state_machine == null)])
    error_message = "Each route targets exactly one of a function or a state machine."
  }
  validation {
    condition = alltrue([for r in values(var.routes) : r.state_machine == null ? true :
    alltrue([for p in keys(r.state_machine.request_parameters) : contains(["Name", "Input", "Region", "TraceHeader"], p)])])
    error_message = "A StartExecution route maps Name, Input, Region or TraceHeader (StateMachineArn is its state machine's)."
  }
  validation {
    condition     = alltrue([for k in keys(var.routes) : can(regex("^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|ANY) /", k))])
    error_message = "Route keys are \"<METHOD> /<path>\"."
  }
}

variable "jwt_issuer" {
  description = "Issuer URL of the JWT authorizer (the Cognito user pool's https://cognito-idp.<region>.amazonaws.com/<pool id>)."
  type        = string
  validation {
    condition     = startswith(var.jwt_issuer, "https://")
    error_message = "jwt_issuer must be an https:// URL."
  }
}

variable "jwt_audiences" {
  description = "Accepted aud claims (Cognito app client ids)."
  type        = list(string)
  validation {
    condition     = length(var.jwt_audiences) > 0
    error_message = "At least one audience is required."
  }
}

variable "cors_allowed_origins" {
  description = "Origins browsers may call the API from (scheme://host[:port], or \"*\"); empty for no CORS configuration."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for o in var.cors_allowed_origins : o == "*" || can(regex("^https?://[^/?#[:space:]]+$", o))])
    error_message = "An origin is scheme://host[:port] with no path or trailing slash (a browser's Origin never has one), or \"*\"."
  }
}

variable "cors" {
  description = "The rest of the CORS configuration, from the resolved description (httpApi.cors): the routes' methods, the request headers browsers may send, the response headers they may read, how long a preflight is cached (null: not said), credentials."
  type = object({
    allow_methods     = list(string)
    allow_headers     = list(string)
    expose_headers    = list(string)
    max_age           = optional(number)
    allow_credentials = bool
  })
  validation {
    condition     = var.cors.max_age == null || (coalesce(var.cors.max_age, 0) >= -1 && coalesce(var.cors.max_age, 0) <= 86400)
    error_message = "max_age is -1 to 86400 seconds, as API Gateway allows."
  }
}

variable "throttling_burst_limit" {
  description = "Default route burst limit (requests)."
  type        = number
  default     = 200
  validation {
    condition     = var.throttling_burst_limit >= 1
    error_message = "throttling_burst_limit must be at least 1."
  }
}

variable "throttling_rate_limit" {
  description = "Default route steady rate limit (requests per second)."
  type        = number
  default     = 100
  validation {
    condition     = var.throttling_rate_limit >= 1
    error_message = "throttling_rate_limit must be at least 1."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch Logs keeps the access logs."
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
