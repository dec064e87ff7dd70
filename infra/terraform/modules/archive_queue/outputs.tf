output "queue_arn" {
  description = "The finished-games queue."
  value       = aws_sqs_queue.this.arn
}

output "queue_name" {
  description = "The finished-games queue's name (for alarms)."
  value       = aws_sqs_queue.this.name
}

output "queue_url" {
  description = "The finished-games queue's URL."
  value       = aws_sqs_queue.this.id
}

output "dlq_arn" {
  description = "The dead-letter queue."
  value       = aws_sqs_queue.dlq.arn
}

output "dlq_name" {
  description = "The dead-letter queue's name (for alarms)."
  value       = aws_sqs_queue.dlq.name
}
