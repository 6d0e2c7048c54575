"""The default theme: Jinja2 templates and static assets, installed as package data (``scaleboard.theme``)."""
