"""The dashboard web application (see app.py)."""
