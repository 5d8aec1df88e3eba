# Terraform decides nothing here: it maps the resolved description (deployment.resolved.json,
# written by `python -m arcadeflow.deployment --write` from deployment.json) onto modules. Every
# default, physical name, environment variable and grant was settled by arcadeflow/deployment.py,
# the description's only interpreter; references ({ref, name}) become module outputs below.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  deployment = jsondecode(file(coalesce(var.deployment_file, "${path.module}/deployment.resolved.json")))
  repo_root  = abspath("${path.module}/..")
  package    = coalesce(var.package_path, "${path.module}/build/functions.zip")

  arn_prefix = "arn:${data.aws_partition.current.partition}"
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id

  # Every resource's tags (the provider's default_tags): the environment's when resolved for one.
  default_tags = merge(
    var.tags,
    { Project = local.deployment.name, Stage = var.stage },
    local.deployment.environment == null ? {} : { Environment = local.deployment.environment },
  )

  tables         = local.deployment.tables
  functions      = local.deployment.functions
  secrets        = local.deployment.secrets
  event_sources  = local.deployment.eventSources
  queues         = local.deployment.queues
  state_machines = local.deployment.stateMachines
  http_api       = local.deployment.httpApi
  websocket_api  = local.deployment.webSocketApi

  # table_capacity (a per-environment choice) overrides the description's billing; an index it
  # does not name gets the table's read and write, as in the description.
  table_capacity = { for k, t in local.tables : k => contains(keys(var.table_capacity), k) ? {
    billing_mode = var.table_capacity[k].billing_mode
    read         = var.table_capacity[k].billing_mode == "PROVISIONED" ? var.table_capacity[k].read : null
    write        = var.table_capacity[k].billing_mode == "PROVISIONED" ? var.table_capacity[k].write : null
    indexes = { for i in keys(t.indexes) : i => var.table_capacity[k].billing_mode == "PROVISIONED" ? {
      read  = lookup(var.table_capacity[k].indexes, i, var.table_capacity[k]).read
      write = lookup(var.table_capacity[k].indexes, i, var.table_capacity[k]).write
    } : { read = null, write = null } }
    } : {
    billing_mode = t.billingMode
    read         = t.readCapacity
    write        = t.writeCapacity
    indexes      = { for i, x in t.indexes : i => { read = x.readCapacity, write = x.writeCapacity } }
  } }

  # AWS's ARN format for names the description fixed: known at plan time, and a function may
  # start a machine that invokes it without a dependency cycle.
  state_machine_arns = { for k, s in local.state_machines :
  k => "${local.arn_prefix}:states:${local.region}:${local.account_id}:stateMachine:${s.name}" }

  # Declared queues plus their dead-letter queues, by logical name.
  queue_refs = merge(
    { for k in keys(local.queues) : k => { url = module.queues[k].url, arn = module.queues[k].arn } },
    { for k, q in local.queues : q.deadLetter.logical => {
      url = module.queues[k].dead_letter_url
      arn = module.queues[k].dead_letter_arn
    } if q.deadLetter != null },
  )

  websocket_callback_url     = local.websocket_api.enabled ? module.websocket_api[0].callback_url : ""
  websocket_connections_arns = local.websocket_api.enabled ? module.websocket_api[0].connections_arns : []

  # One issuer for both APIs: the HTTP API's JWT authorizer and the WebSocket $connect authorizer.
  jwt_issuer    = var.jwt_issuer != null ? var.jwt_issuer : "https://${aws_cognito_user_pool.players[0].endpoint}"
  jwt_audiences = var.jwt_issuer != null ? var.jwt_audiences : [aws_cognito_user_pool_client.game[0].id]
  jwt_jwks_url  = var.jwt_jwks_url != null ? var.jwt_jwks_url : "${local.jwt_issuer}/.well-known/jwks.json"

  # What each reference kind of the resolved description means here. A function's environment
  # never names another function, so this table does not depend on module.functions.
  environment_references = {
    table_name            = { for k, t in module.tables : k => t.name }
    queue_url             = { for k, q in local.queue_refs : k => q.url }
    queue_arn             = { for k, q in local.queue_refs : k => q.arn }
    state_machine_arn     = local.state_machine_arns
    secret_parameter_name = { for k, p in aws_ssm_parameter.secret : k => p.name }
    deployment = {
      stage                  = var.stage
      websocket_callback_url = local.websocket_callback_url
      jwt_issuer             = local.jwt_issuer
      jwt_audiences          = join(",", local.jwt_audiences)
      jwt_jwks_url           = local.jwt_jwks_url
    }
  }
  template_references = merge(local.environment_references, {
    function_arn = { for k, f in module.functions : k => f.arn }
  })

  function_environment = { for k, f in local.functions : k => merge(
    f.environment,
    { for name, r in f.environmentRefs : name => local.environment_references[r.ref][r.name] },
  ) }

  table_grants = { for k in keys(local.tables) : k => {
    arn        = module.tables[k].arn
    index_arns = values(module.tables[k].index_arns)
  } }

  powertools_layer_arn = "${local.arn_prefix}:lambda:${local.region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-${replace(var.lambda_runtime, ".", "")}-${var.lambda_architecture}:${var.powertools_layer_version}"

  # null: the topic created here; otherwise the given topics, none included.
  alarm_actions = var.alarm_topic_arns == null ? aws_sns_topic.alarms[*].arn : var.alarm_topic_arns
}

# The one thing checked here: the file is the resolved form this configuration maps (the loader
# already validated everything it says).
resource "terraform_data" "resolved_description" {
  lifecycle {
    precondition {
      condition     = local.deployment.formatVersion == 1
      error_message = "deployment_file is not a resolved description of formatVersion 1: run `python -m arcadeflow.deployment --write`."
    }
    precondition {
      # Names are the loader's: an environment's names exist only in a file resolved for it.
      condition     = var.environment == local.deployment.environment
      error_message = "deployment_file was resolved for environment ${coalesce(local.deployment.environment, "(none: default names)")}, but var.environment is ${coalesce(var.environment, "null")}: run `python -m arcadeflow.deployment --environment ${coalesce(var.environment, "<environment>")} --output <file>` and pass that file as deployment_file (or set environment to match)."
    }
    # The loader validated each data file against its schema when it resolved; one edited since
    # has not been validated, so it is not deployed.
    precondition {
      condition = alltrue([for k, f in local.deployment.dataFiles :
      filesha256("${local.repo_root}/${f.path}") == f.sha256])
      error_message = "data files changed since the description was resolved (${join(", ", [for k, f in local.deployment.dataFiles : "${k}: ${f.path}" if filesha256("${local.repo_root}/${f.path}") != f.sha256])}): run `python -m arcadeflow.deployment --write`, which validates them against their schemas."
    }
  }
}

resource "aws_sns_topic" "alarms" {
  count = var.alarm_topic_arns == null ? 1 : 0
  name  = local.deployment.names.alarmTopic
}

# --- storage and queues --------------------------------------------------------------------

module "tables" {
  source   = "./modules/table"
  for_each = local.tables

  name          = each.value.name
  partition_key = each.value.partitionKey
  sort_key      = each.value.sortKey
  indexes = { for name, i in each.value.indexes : name => {
    partition_key  = i.partitionKey
    sort_key       = i.sortKey
    projection     = i.projection
    read_capacity  = local.table_capacity[each.key].indexes[name].read
    write_capacity = local.table_capacity[each.key].indexes[name].write
  } }
  stream_view_type = each.value.stream
  ttl_attribute    = each.value.ttlAttribute
  billing_mode     = local.table_capacity[each.key].billing_mode
  read_capacity    = local.table_capacity[each.key].read
  write_capacity   = local.table_capacity[each.key].write
  # The variable, when set, decides for every table; else the description's opt-in.
  point_in_time_recovery = coalesce(var.point_in_time_recovery, each.value.pointInTimeRecovery)
  kms_key_arn            = lookup(var.table_kms_key_arns, each.key, var.table_kms_key_arn)
  replicas               = each.value.replicated ? var.table_replicas : []
  deletion_protection    = var.table_deletion_protection
  throttle_alarms        = var.table_throttle_alarms
  alarm_actions          = local.alarm_actions
}

module "queues" {
  source   = "./modules/queue"
  for_each = local.queues

  name                       = each.value.name
  dead_letter_queue_name     = each.value.deadLetter == null ? null : each.value.deadLetter.name
  visibility_timeout_seconds = each.value.visibilityTimeoutSeconds
  max_receive_count          = each.value.maxReceiveCount
  holds_failures             = each.value.holdsFailures
  alarm_actions              = local.alarm_actions
}

# --- functions -----------------------------------------------------------------------------

module "functions" {
  source   = "./modules/function"
  for_each = local.functions
  # A function may read its secrets from its first invocation on.
  depends_on = [aws_ssm_parameter.secret]

  name               = each.value.name
  handler            = each.value.handler
  description        = each.value.description
  runtime            = var.lambda_runtime
  architecture       = var.lambda_architecture
  memory_mb          = each.value.memoryMb
  timeout_seconds    = each.value.timeoutSeconds
  package_path       = local.package
  package_hash       = filebase64sha256(local.package)
  layers             = var.attach_powertools_layer ? [local.powertools_layer_arn] : []
  environment        = local.function_environment[each.key]
  xray_tracing       = var.xray_tracing
  log_retention_days = var.log_retention_days

  tables                     = { for t, access in each.value.grants.tables : t => merge(local.table_grants[t], { access = access }) }
  stream_arns                = [for t in each.value.grants.streams : module.tables[t].stream_arn]
  queues_send                = [for q in each.value.grants.queuesSend : local.queue_refs[q].arn]
  queues_consume             = [for q in each.value.grants.queuesConsume : local.queue_refs[q].arn]
  state_machines_start       = [for s in each.value.grants.stateMachinesStart : local.state_machine_arns[s]]
  state_machines_callback    = [for s in each.value.grants.stateMachinesCallback : local.state_machine_arns[s]]
  websocket_connections_arns = each.value.grants.websocketPush ? local.websocket_connections_arns : []
  # Its executions (DescribeExecution's resource type is the execution), every one of the machine.
  state_machines_describe = [for s in each.value.grants.stateMachinesDescribe :
  "${local.arn_prefix}:states:${local.region}:${local.account_id}:execution:${local.state_machines[s].name}:*"]
  # Built from the name, as the other ARNs here, so the policy is known at plan time.
  secret_parameter_arns = [for x in each.value.grants.secrets :
  "${local.arn_prefix}:ssm:${local.region}:${local.account_id}:parameter${local.secrets[x].parameterName}"]
}

# Secrets are generated here, never written in code or variables. uuid() is random on every
# plan, so the value is set once at creation and then left alone (rotate by tainting).
resource "aws_ssm_parameter" "secret" {
  for_each = local.secrets

  name        = each.value.parameterName
  description = each.value.description
  type        = "SecureString"
  value       = sha256("${uuid()}${uuid()}${timestamp()}")

  lifecycle {
    ignore_changes = [value]
  }
}

resource "aws_lambda_event_source_mapping" "this" {
  for_each = local.event_sources

  function_name    = module.functions[each.value.function].arn
  event_source_arn = each.value.table != null ? module.tables[each.value.table].stream_arn : module.queues[each.value.queue].arn
  batch_size       = each.value.batchSize
  # Handlers report the records that failed (batchItemFailures), as the embedded runtime honours.
  function_response_types = ["ReportBatchItemFailures"]
  # Stream-only settings (null for queues, which retry through their redrive policy).
  starting_position              = each.value.startingPosition
  maximum_retry_attempts         = each.value.maximumRetryAttempts
  bisect_batch_on_function_error = each.value.bisectBatchOnFunctionError
}

# --- state machines ------------------------------------------------------------------------

module "state_machines" {
  source   = "./modules/state_machine"
  for_each = local.state_machines

  name = each.value.name
  # Only the placeholders the ASL uses: one it gained since the file was resolved fails here.
  definition = templatefile("${local.repo_root}/${each.value.definition}", {
    for p, r in each.value.templateVariables : p => local.template_references[r.ref][r.name]
  })
  functions                  = [for f in each.value.grants.functions : module.functions[f].arn]
  tables                     = { for t, access in each.value.grants.tables : t => merge(local.table_grants[t], { access = access }) }
  queues_send                = [for q in each.value.grants.queuesSend : local.queue_refs[q].arn]
  state_machines_start       = [for m in each.value.grants.stateMachinesStart : local.state_machine_arns[m]]
  websocket_connections_arns = each.value.grants.websocketPush ? local.websocket_connections_arns : []
  log_level                  = var.state_machine_log_level
  log_retention_days         = var.log_retention_days
  xray_tracing               = var.xray_tracing
  alarm_actions              = local.alarm_actions
}

# --- APIs ----------------------------------------------------------------------------------

resource "aws_cognito_user_pool" "players" {
  count = var.jwt_issuer == null ? 1 : 0

  name                     = local.deployment.names.userPool
  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]
  deletion_protection      = var.table_deletion_protection ? "ACTIVE" : "INACTIVE"

  password_policy {
    minimum_length    = 12
    require_lowercase = true
    require_numbers   = true
    require_symbols   = false
    require_uppercase = true
  }
}

resource "aws_cognito_user_pool_client" "game" {
  count = var.jwt_issuer == null ? 1 : 0

  name                          = local.deployment.names.appClient
  user_pool_id                  = aws_cognito_user_pool.players[0].id
  generate_secret               = false
  explicit_auth_flows           = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
  prevent_user_existence_errors = "ENABLED"
}

module "http_api" {
  source = "./modules/http_api"

  name = local.http_api.name
  routes = { for key, r in local.http_api.routes : key => {
    function = r.function == null ? null : {
      name       = module.functions[r.function].name
      invoke_arn = module.functions[r.function].invoke_arn
    }
    state_machine = r.startExecution == null ? null : {
      arn                = module.state_machines[r.startExecution].arn
      request_parameters = r.requestParameters
    }
    auth = r.auth
  } }
  jwt_issuer           = local.jwt_issuer
  jwt_audiences        = local.jwt_audiences
  cors_allowed_origins = var.cors_allowed_origins
  cors = {
    allow_methods     = local.http_api.cors.allowMethods
    allow_headers     = local.http_api.cors.allowHeaders
    expose_headers    = local.http_api.cors.exposeHeaders
    max_age           = local.http_api.cors.maxAge
    allow_credentials = local.http_api.cors.allowCredentials
  }
  log_retention_days = var.log_retention_days
}

module "websocket_api" {
  source = "./modules/websocket_api"
  count  = local.websocket_api.enabled ? 1 : 0

  name                       = local.websocket_api.name
  stage                      = var.stage
  route_selection_expression = local.websocket_api.routeSelectionExpression
  routes = { for key, r in local.websocket_api.routes : key => {
    function_name       = module.functions[r.function].name
    function_invoke_arn = module.functions[r.function].invoke_arn
  } }
  authorizer = local.websocket_api.authorizer == null ? null : {
    name                = local.websocket_api.authorizer.name
    function_name       = module.functions[local.websocket_api.authorizer.function].name
    function_invoke_arn = module.functions[local.websocket_api.authorizer.function].invoke_arn
    identity_sources    = local.websocket_api.authorizer.identitySources
  }
}
