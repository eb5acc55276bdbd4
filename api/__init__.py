"""The HTTP API: Ollama's /api/* and OpenAI's /v1/* over Starlette."""
