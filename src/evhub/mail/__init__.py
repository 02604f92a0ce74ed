"""Mail: messages written to an outbox with the fact that causes them, sent by SMTP after."""
