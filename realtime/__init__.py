"""Realtime: what agents' browsers hear the moment it happens (Flask-SocketIO)."""
