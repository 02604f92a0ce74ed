"""Several nodes on one PostgreSQL and one NATS server (JetStream).

A station's socket lives on one node (its presence record, under that node's lease); commands
for it travel over NATS request/reply (`routing`); the event log is relayed to a JetStream
stream (`stream`); singleton loops run under PostgreSQL advisory locks (`leadership`).
"""
