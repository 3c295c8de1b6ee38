# One image for both stacks: the command decides which interface a container serves
# (deploy/start-wsgi.sh or deploy/start-asgi.sh, which `exec` the server so that SIGTERM from
# `docker compose stop` reaches it directly and it shuts down gracefully).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .

# Static files, collected into the image (STATIC_ROOT, myproject/settings.py): every container of
# both stacks serves the hashed names its own pages link to. With debug off the settings ask for a
# secret key, which collecting never reads; debug on spares baking even a placeholder into a layer.
RUN DJANGO_DEBUG=1 python manage.py collectstatic --noinput --verbosity 0

# Not root: a web server needs no privileges to listen on 8001/8002.
RUN useradd --create-home --uid 10001 app
USER app
EXPOSE 8001 8002
