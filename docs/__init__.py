"""The docs' own tools: docs/screenshots/take.py makes the images of docs/screenshots.md."""
