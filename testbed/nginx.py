"""nginx in front of the two stacks: deploy/nginx/default.conf.template rendered as the nginx
image renders it, run by Debian's nginx binary under a prefix of its own."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from string import Template
from urllib.parse import urlsplit

from testbed.environment import base_environment
from testbed.processes import ROOT, free_port
from testbed.web import WebServer

NGINX_TEMPLATE = ROOT / "deploy" / "nginx" / "default.conf.template"
NGINX_BINARY = next((path for path in ("/usr/sbin/nginx", "/usr/bin/nginx") if Path(path).exists()), None)


def render_nginx_template(variables: dict[str, str]) -> str:
    """Render the template as the nginx image's envsubst does: only the given ${NAME}s change,
    nginx's own $variables stay."""
    return Template(NGINX_TEMPLATE.read_text()).safe_substitute(variables)


class NginxServer(WebServer):
    """The shipped site in front of a WSGI and an ASGI stack, on a free port; /ws/race/ goes to the
    race's driver, or to the ASGI stack when none is given."""

    def __init__(
        self, wsgi_url: str, asgi_url: str, log_dir: Path, race_driver_url: str | None = None
    ) -> None:
        port = free_port()
        prefix = log_dir / f"nginx-{uuid.uuid4().hex[:8]}"
        prefix.mkdir()
        site = render_nginx_template(
            {
                "WSGI_UPSTREAM": urlsplit(wsgi_url).netloc,
                "ASGI_UPSTREAM": urlsplit(asgi_url).netloc,
                "RACE_DRIVER_UPSTREAM": urlsplit(race_driver_url or asgi_url).netloc,
                "NGINX_PORT": f"127.0.0.1:{port}",
                # The upstreams above are addresses, so nginx never asks this resolver anything.
                "NGINX_LOCAL_RESOLVERS": "127.0.0.1",
            }
        )
        (prefix / "default.conf").write_text(site)
        temp_paths = "\n".join(
            f"  {kind}_temp_path {prefix / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (prefix / "nginx.conf").write_text(
            ("user root;\n" if os.geteuid() == 0 else "")
            + f"daemon off;\nworker_processes 1;\npid {prefix / 'nginx.pid'};\nerror_log stderr warn;\n"
            + "events { worker_connections 256; }\n"
            + f"http {{\n  access_log off;\n{temp_paths}\n  include {prefix / 'default.conf'};\n}}\n"
        )
        command = [NGINX_BINARY or "nginx", "-p", str(prefix), "-c", str(prefix / "nginx.conf")]
        super().__init__("nginx", command, base_environment(), log_dir, port)
