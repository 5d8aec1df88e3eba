output "name" {
  description = "Function name."
  value       = aws_lambda_function.this.function_name
}

output "arn" {
  description = "Function ARN (unqualified), built from the name so policies naming it are known at plan time."
  value       = "arn:${data.aws_partition.current.partition}:lambda:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:function:${aws_lambda_function.this.function_name}"
}

output "invoke_arn" {
  description = "ARN API Gateway integrations invoke."
  value       = aws_lambda_function.this.invoke_arn
}

output "role_arn" {
  description = "ARN of the function's own role."
  value       = aws_iam_role.this.arn
}

output "policy" {
  description = "The role's policy document (JSON), for review and tests."
  value       = aws_iam_role_policy.this.policy
}

output "role_name" {
  description = "Name of the function's own role."
  value       = aws_iam_role.this.name
}

output "execution_role" {
  description = "Role the function runs as, read back from the function (must be its own)."
  value       = aws_lambda_function.this.role
}
