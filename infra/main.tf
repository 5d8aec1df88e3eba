# Everything here is derived from the deployment description (deployment.json), the same file
# arcadeflow/deployment.py loads for the embedded deployer. Names, environment variables and ASL
# template variables follow that loader exactly; tests/infra/test_no_drift.py holds the two together.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  deployment = jsondecode(file(coalesce(var.deployment_file, "${path.module}/deployment.json")))
  repo_root  = abspath("${path.module}/..")
  package    = coalesce(var.package_path, "${path.module}/build/functions.zip")
  prefix     = local.deployment.name

  arn_prefix = "arn:${data.aws_partition.current.partition}"
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id

  # --- the description, with the loader's defaults filled in ------------------------------
  tables = { for k, t in local.deployment.tables : k => {
    name          = "${local.prefix}-${replace(k, "_", "-")}"
    partition_key = t.partitionKey
    sort_key      = try(t.sortKey, null)
    indexes = { for ik, i in try(t.indexes, {}) : ik => {
      partition_key = i.partitionKey
      sort_key      = try(i.sortKey, null)
      projection    = try(i.projection, "ALL")
    } }
    stream        = try(t.stream, null)
    ttl_attribute = try(t.ttlAttribute, null)
    billing_mode  = try(var.table_capacity[k].billing_mode, try(t.provisioned, null) == null ? "PAY_PER_REQUEST" : "PROVISIONED")
    read          = try(var.table_capacity[k].read, t.provisioned.read, 5)
    write         = try(var.table_capacity[k].write, t.provisioned.write, 5)
  } }

  functions = { for k, f in local.deployment.functions : k => {
    name           = "${local.prefix}-${replace(k, "_", "-")}"
    handler        = f.handler
    description    = try(f.description, "")
    timeout        = try(f.timeoutSeconds, 10)
    memory         = try(f.memoryMb, 256)
    tables         = try(f.tables, {})
    queues         = try(f.queues, {})
    state_machines = try(f.stateMachines, {})
    websocket_push = try(f.websocketPush, false)
    secrets        = try(f.secrets, [])
    environment    = try(f.environment, {})
  } }

  # deployment.py's parameter_name(): /<name>/<secret with _ as ->.
  secret_parameters = { for k, x in try(local.deployment.secrets, {}) : k => {
    name        = "/${local.prefix}/${replace(k, "_", "-")}"
    description = try(x.description, "")
  } }

  event_sources = { for k, e in try(local.deployment.eventSources, {}) : k => {
    function                       = e.function
    table                          = try(e.table, null)
    queue                          = try(e.queue, null)
    batch_size                     = try(e.batchSize, 100)
    starting_position              = try(e.startingPosition, "TRIM_HORIZON")
    maximum_retry_attempts         = try(e.maximumRetryAttempts, 10)
    bisect_batch_on_function_error = try(e.bisectBatchOnFunctionError, true)
  } }

  queues = { for k, q in try(local.deployment.queues, {}) : k => {
    name                       = "${local.prefix}-${replace(k, "_", "-")}"
    dead_letter_name           = try(q.deadLetter, true) ? "${local.prefix}-${replace("${k}_dlq", "_", "-")}" : null
    visibility_timeout_seconds = try(q.visibilityTimeoutSeconds, 60)
    max_receive_count          = try(q.maxReceiveCount, 5)
    holds_failures             = try(q.holdsFailures, false)
  } }

  state_machines = { for k, s in try(local.deployment.stateMachines, {}) : k => {
    name           = "${local.prefix}-${replace(k, "_", "-")}"
    definition     = s.definition
    functions      = try(s.functions, [])
    tables         = try(s.tables, {})
    queues         = try(s.queues, [])
    state_machines = try(s.stateMachines, [])
    websocket_push = try(s.websocketPush, false)
  } }

  http_routes = { for key, r in local.deployment.httpApi.routes : key => {
    function      = try(r.function, null)
    state_machine = try(r.startExecution, null)
    auth          = try(r.auth, true)
  } }

  websocket_route_selection = try(local.deployment.webSocketApi.routeSelectionExpression, "$request.body.action")
  websocket_routes          = try(local.deployment.webSocketApi.routes, {})
  websocket_authorizer = try(local.deployment.webSocketApi.authorizer, null) == null ? null : {
    function         = local.deployment.webSocketApi.authorizer.function
    identity_sources = try(local.deployment.webSocketApi.authorizer.identitySource, ["route.request.querystring.token"])
  }
  websocket_needed = (length(local.websocket_routes) > 0
    || anytrue([for f in values(local.functions) : f.websocket_push])
  || anytrue([for s in values(local.state_machines) : s.websocket_push]))

  # --- references -------------------------------------------------------------------------
  # State machine ARNs are built, not read back, so a function can start a machine that invokes it.
  state_machine_arns = { for k, s in local.state_machines :
  k => "${local.arn_prefix}:states:${local.region}:${local.account_id}:stateMachine:${s.name}" }

  # Declared queues plus their "<name>_dlq" dead-letter queues (deployment.py's all_queues()).
  queue_refs = merge(
    { for k in keys(local.queues) : k => { url = module.queues[k].url, arn = module.queues[k].arn } },
    { for k, q in local.queues : "${k}_dlq" => {
      url = module.queues[k].dead_letter_url
      arn = module.queues[k].dead_letter_arn
    } if q.dead_letter_name != null },
  )

  websocket_callback_url     = local.websocket_needed ? module.websocket_api[0].callback_url : ""
  websocket_connections_arns = local.websocket_needed ? module.websocket_api[0].connections_arns : []

  # One issuer for both APIs: the HTTP API's JWT authorizer and the WebSocket $connect authorizer.
  jwt_issuer    = var.jwt_issuer != null ? var.jwt_issuer : "https://${aws_cognito_user_pool.players[0].endpoint}"
  jwt_audiences = var.jwt_issuer != null ? var.jwt_audiences : [aws_cognito_user_pool_client.game[0].id]
  jwt_jwks_url  = var.jwt_jwks_url != null ? var.jwt_jwks_url : "${local.jwt_issuer}/.well-known/jwks.json"

  # deployment.py's function_environment(): one variable per resource the function declares.
  function_environment = { for k, f in local.functions : k => merge(
    { POWERTOOLS_SERVICE_NAME = f.name, ARCADEFLOW_STAGE = var.stage },
    { for t in keys(f.tables) : "${upper(t)}_TABLE" => module.tables[t].name },
    { for q in keys(f.queues) : "${upper(q)}_QUEUE_URL" => module.queues[q].url },
    { for x in f.secrets : "${upper(x)}_PARAMETER" => local.secret_parameters[x].name },
    { for s in keys(f.state_machines) : "${upper(s)}_STATE_MACHINE_ARN" => local.state_machine_arns[s] },
    f.websocket_push ? { WEBSOCKET_CALLBACK_URL = local.websocket_callback_url } : {},
    k == try(local.websocket_authorizer.function, null) ? {
      JWT_ISSUER    = local.jwt_issuer
      JWT_AUDIENCES = join(",", local.jwt_audiences)
      JWT_JWKS_URL  = local.jwt_jwks_url
    } : {},
    f.environment,
  ) }

  # deployment.py's template_variables(): every placeholder an ASL template may use.
  template_variables = merge(
    { for t in keys(local.tables) : "${t}_table" => module.tables[t].name },
    { for f in keys(local.functions) : "${f}_function_arn" => module.functions[f].arn },
    { for q, ref in local.queue_refs : "${q}_queue_url" => ref.url },
    { for q, ref in local.queue_refs : "${q}_queue_arn" => ref.arn },
    { for s in keys(local.state_machines) : "${s}_state_machine_arn" => local.state_machine_arns[s] },
  )

  table_grants = { for k in keys(local.tables) : k => {
    arn        = module.tables[k].arn
    index_arns = values(module.tables[k].index_arns)
  } }

  powertools_layer_arn = "${local.arn_prefix}:lambda:${local.region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-${replace(var.lambda_runtime, ".", "")}-${var.lambda_architecture}:${var.powertools_layer_version}"

  alarm_actions = [coalesce(var.alarm_topic_arn, one(aws_sns_topic.alarms[*].arn))]
}

# Fail the plan, not the apply, when the description names something it does not declare.
resource "terraform_data" "description_references" {
  lifecycle {
    precondition {
      condition = alltrue(concat(
        [for f in values(local.functions) : alltrue([for t in keys(f.tables) : contains(keys(local.tables), t)])],
        [for f in values(local.functions) : alltrue([for q in keys(f.queues) : contains(keys(local.queues), q)])],
        [for f in values(local.functions) : alltrue([for s in keys(f.state_machines) : contains(keys(local.state_machines), s)])],
        [for e in values(local.event_sources) : contains(keys(local.functions), e.function)],
        [for e in values(local.event_sources) : e.table == null ? true : try(local.tables[e.table].stream != null, false)],
        [for e in values(local.event_sources) : e.queue == null ? true : contains(keys(local.queues), e.queue)],
        [for s in values(local.state_machines) : alltrue([for f in s.functions : contains(keys(local.functions), f)])],
        [for s in values(local.state_machines) : alltrue([for t in keys(s.tables) : contains(keys(local.tables), t)])],
        [for s in values(local.state_machines) : alltrue([for q in s.queues : contains(keys(local.queue_refs), q)])],
        [for s in values(local.state_machines) : alltrue([for m in s.state_machines : contains(keys(local.state_machines), m)])],
        [for r in values(local.http_routes) : (r.function == null) != (r.state_machine == null)],
        [for r in values(local.http_routes) : r.function == null ? true : contains(keys(local.functions), r.function)],
        [for r in values(local.http_routes) : r.state_machine == null ? true : contains(keys(local.state_machines), r.state_machine)],
        [for r in values(local.websocket_routes) : contains(keys(local.functions), r.function)],
        [local.websocket_authorizer == null ? true : contains(keys(local.functions), local.websocket_authorizer.function)],
      ))
      error_message = "The deployment description refers to a table, queue, function or state machine it does not declare (run `python -c 'import arcadeflow.deployment as d; d.load()'` for details)."
    }
  }
}

resource "aws_sns_topic" "alarms" {
  count = var.alarm_topic_arn == null ? 1 : 0
  name  = "${local.prefix}-alarms"
}

# --- storage and queues --------------------------------------------------------------------

module "tables" {
  source   = "./modules/table"
  for_each = local.tables

  name                   = each.value.name
  partition_key          = each.value.partition_key
  sort_key               = each.value.sort_key
  indexes                = each.value.indexes
  stream_view_type       = each.value.stream
  ttl_attribute          = each.value.ttl_attribute
  billing_mode           = each.value.billing_mode
  read_capacity          = each.value.read
  write_capacity         = each.value.write
  point_in_time_recovery = var.point_in_time_recovery
  kms_key_arn            = var.table_kms_key_arn
  deletion_protection    = var.table_deletion_protection
  alarm_actions          = local.alarm_actions
}

module "queues" {
  source   = "./modules/queue"
  for_each = local.queues

  name                       = each.value.name
  dead_letter_queue_name     = each.value.dead_letter_name
  visibility_timeout_seconds = each.value.visibility_timeout_seconds
  max_receive_count          = each.value.max_receive_count
  holds_failures             = each.value.holds_failures
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
  memory_mb          = each.value.memory
  timeout_seconds    = each.value.timeout
  package_path       = local.package
  package_hash       = filebase64sha256(local.package)
  layers             = var.attach_powertools_layer ? [local.powertools_layer_arn] : []
  environment        = local.function_environment[each.key]
  xray_tracing       = var.xray_tracing
  log_retention_days = var.log_retention_days

  tables = { for t, access in each.value.tables : t => merge(local.table_grants[t], { access = access }) }
  stream_arns = [for e in values(local.event_sources) :
  module.tables[e.table].stream_arn if e.function == each.key && e.table != null]
  queues_send = [for q, use in each.value.queues : module.queues[q].arn if use == "send"]
  queues_consume = distinct(concat(
    [for q, use in each.value.queues : module.queues[q].arn if use == "consume"],
    [for e in values(local.event_sources) : module.queues[e.queue].arn if e.function == each.key && e.queue != null],
  ))
  state_machines_start       = [for s, use in each.value.state_machines : local.state_machine_arns[s] if contains(["start", "start_and_callback"], use)]
  state_machines_callback    = [for s, use in each.value.state_machines : local.state_machine_arns[s] if contains(["callback", "start_and_callback"], use)]
  websocket_connections_arns = each.value.websocket_push ? local.websocket_connections_arns : []
  # Built from the name, as the other ARNs here, so the policy is known at plan time.
  secret_parameter_arns = [for x in each.value.secrets :
  "${local.arn_prefix}:ssm:${local.region}:${local.account_id}:parameter${local.secret_parameters[x].name}"]
}

# Secrets are generated here, never written in code or variables. uuid() is random on every
# plan, so the value is set once at creation and then left alone (rotate by tainting).
resource "aws_ssm_parameter" "secret" {
  for_each = local.secret_parameters

  name        = each.value.name
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
  batch_size       = each.value.batch_size
  # Handlers report the records that failed (batchItemFailures), as the embedded runtime honours.
  function_response_types = ["ReportBatchItemFailures"]
  # Stream-only settings; SQS retries through the queue's redrive policy instead.
  starting_position              = each.value.table != null ? each.value.starting_position : null
  maximum_retry_attempts         = each.value.table != null ? each.value.maximum_retry_attempts : null
  bisect_batch_on_function_error = each.value.table != null ? each.value.bisect_batch_on_function_error : null
}

# --- state machines ------------------------------------------------------------------------

module "state_machines" {
  source   = "./modules/state_machine"
  for_each = local.state_machines

  name                       = each.value.name
  definition                 = templatefile("${local.repo_root}/${each.value.definition}", local.template_variables)
  functions                  = [for f in each.value.functions : module.functions[f].arn]
  tables                     = { for t, access in each.value.tables : t => merge(local.table_grants[t], { access = access }) }
  queues_send                = [for q in each.value.queues : local.queue_refs[q].arn]
  state_machines_start       = [for m in each.value.state_machines : local.state_machine_arns[m]]
  websocket_connections_arns = each.value.websocket_push ? local.websocket_connections_arns : []
  log_level                  = var.state_machine_log_level
  log_retention_days         = var.log_retention_days
  xray_tracing               = var.xray_tracing
  alarm_actions              = local.alarm_actions
}

# --- APIs ----------------------------------------------------------------------------------

resource "aws_cognito_user_pool" "players" {
  count = var.jwt_issuer == null ? 1 : 0

  name                     = "${local.prefix}-players"
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

  name                          = "${local.prefix}-game"
  user_pool_id                  = aws_cognito_user_pool.players[0].id
  generate_secret               = false
  explicit_auth_flows           = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
  prevent_user_existence_errors = "ENABLED"
}

module "http_api" {
  source = "./modules/http_api"

  name = "${local.prefix}-http"
  routes = { for key, r in local.http_routes : key => {
    function = r.function == null ? null : {
      name       = module.functions[r.function].name
      invoke_arn = module.functions[r.function].invoke_arn
    }
    state_machine = r.state_machine == null ? null : { arn = module.state_machines[r.state_machine].arn }
    auth          = r.auth
  } }
  jwt_issuer           = local.jwt_issuer
  jwt_audiences        = local.jwt_audiences
  cors_allowed_origins = var.cors_allowed_origins
  log_retention_days   = var.log_retention_days
}

module "websocket_api" {
  source = "./modules/websocket_api"
  count  = local.websocket_needed ? 1 : 0

  name                       = "${local.prefix}-websocket"
  stage                      = var.stage
  route_selection_expression = local.websocket_route_selection
  routes = { for key, r in local.websocket_routes : key => {
    function_name       = module.functions[r.function].name
    function_invoke_arn = module.functions[r.function].invoke_arn
  } }
  authorizer = local.websocket_authorizer == null ? null : {
    function_name       = module.functions[local.websocket_authorizer.function].name
    function_invoke_arn = module.functions[local.websocket_authorizer.function].invoke_arn
    identity_sources    = local.websocket_authorizer.identity_sources
  }
}
