"""The gallery's images, and the script that makes them (take.py)."""
