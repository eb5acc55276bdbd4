"""Hardware backends: pluggy plugins that probe devices and place models on them."""
