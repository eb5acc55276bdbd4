"""The built-in backend plugins: cpu, cuda, metal, vulkan, rpc.

Each is registered as an entry point in llmrt's own pyproject.toml (group ``llmrt.backends``),
the same road a third-party plugin takes; nothing imports them directly except the manager.
"""
