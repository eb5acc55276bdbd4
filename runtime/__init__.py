"""Everything that runs a model: binding, model, context, sampling, generation, chat, engine."""
