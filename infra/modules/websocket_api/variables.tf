variable "name" {
  description = "Physical API name."
  type        = string
}

variable "stage" {
  description = "Stage name; part of the URL clients connect to and of the callback URL handlers push through."
  type        = string
  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,128}$", var.stage))
    error_message = "stage is 1-128 characters of a-z, A-Z, 0-9, _ and -."
  }
}

variable "route_selection_expression" {
  description = "Where API Gateway finds the route key in a message ($request.body.action)."
  type        = string
  default     = "$request.body.action"
}

variable "routes" {
  description = "Routes by route key ($connect, $disconnect, $default, or an action): the function each invokes."
  type = map(object({
    function_name       = string
    function_invoke_arn = string
  }))
}

variable "authorizer" {
  description = "Lambda REQUEST authorizer of $connect (its name, the function name, its invoke ARN, identity sources), or null for none."
  type = object({
    name                = string
    function_name       = string
    function_invoke_arn = string
    identity_sources    = list(string)
  })
  default = null
  validation {
    # try(): Terraform's && does not short-circuit, so a null authorizer must not be dereferenced.
    condition = length(try(var.authorizer.identity_sources, ["none"])) > 0 && alltrue([
      for s in try(var.authorizer.identity_sources, []) : can(regex("^route\\.request\\.(querystring|header)\\.[A-Za-z0-9._~-]+$", s))
    ])
    error_message = "identity_sources are route.request.querystring.<name> or route.request.header.<name>."
  }
}

variable "throttling_burst_limit" {
  description = "Default route burst limit (messages)."
  type        = number
  default     = 200
  validation {
    condition     = var.throttling_burst_limit >= 1
    error_message = "throttling_burst_limit must be at least 1."
  }
}

variable "throttling_rate_limit" {
  description = "Default route steady rate limit (messages per second)."
  type        = number
  default     = 100
  validation {
    condition     = var.throttling_rate_limit >= 1
    error_message = "throttling_rate_limit must be at least 1."
  }
}

variable "tags" {
  description = "Tags for every resource of this module."
  type        = map(string)
  default     = {}
}
