"""A backend plugin that fails on import, as one with a missing dependency would."""

raise RuntimeError("this plugin is broken on purpose")
