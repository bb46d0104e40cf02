"""smart-cushion dashboard (Flask app)."""
