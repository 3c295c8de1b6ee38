#!/bin/sh
# What the official image's entrypoint does with /etc/nginx/templates: render each *.template
# into /etc/nginx/conf.d with envsubst, replacing only the variables the environment defines (so
# nginx's own $variables survive).
set -eu
defined="$(env | cut -d= -f1 | sed 's/^/${/; s/$/}/' | tr '\n' ' ')"
for template in /etc/nginx/templates/*.template; do
    [ -e "$template" ] || continue
    name="$(basename "$template" .template)"
    envsubst "$defined" <"$template" >"/etc/nginx/conf.d/$name"
done
exec "$@"
