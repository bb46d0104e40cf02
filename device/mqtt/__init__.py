"""MQTT (SPEC section 8): what the cushion publishes and takes (messages), the broker link, the
daemon's publisher and the hub that keeps many cushions' histories."""
