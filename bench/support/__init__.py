"""What the benchmarks share: processes and servers (`processes`, over gateway.processes), the stock Strawberry
baselines (`stock`), figures (`stats`), requests and data (`data`), websocket fan-out clients (`fleet`), and
command-line helpers (`cli`)."""
