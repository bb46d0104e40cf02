"""`python -m device.config > docs/config.md`: the config reference, made from the schema."""

from device.config.template import render_reference

print(render_reference(), end="")
