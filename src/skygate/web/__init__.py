"""The settings web pages (`/settings`): server-rendered with Jinja2, one stylesheet, a little plain JS."""
