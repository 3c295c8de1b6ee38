"""Which stack served this request, and where the other one is: the facts behind every page's
header, the home page and the X-Interface header.

- `served_by`: the interface (WSGI or ASGI), the server and the process that served a request, and
  the WSGI server's worker pool.
- `layout`: how the stacks are laid out around the request (side by side, behind a proxy, runserver,
  reached directly), and so where the other stack is and where a page opens its WebSocket.

myproject/context_processors.py hands both to the templates.
"""
