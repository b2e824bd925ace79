"""How the agent talks to the portal: HTTP long-polling (`http`) or a pair of SQS queues (`sqs`)."""
