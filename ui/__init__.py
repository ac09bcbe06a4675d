"""The app's views: handlers and formatting for app.py's tabs (Gradio only here and in app.py)."""
