"""The Kubernetes manifests (deploy/kubernetes/), checked offline with the ecosystem's own tools:
kustomize renders every overlay, every object validates strictly against the Kubernetes API's
schemas, checkov finds no failed policy, and what must agree with docker-compose.yml does."""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
from typing import Any

import kubernetes_validate
import pytest
import yaml

from deploy.healthcheck import HEALTH_PATH
from testbed.processes import ROOT
from tests.conftest import skip_unless

KUBERNETES = ROOT / "deploy" / "kubernetes"
OVERLAYS = sorted(path.name for path in (KUBERNETES / "overlays").iterdir() if path.is_dir())
# The schemas kubernetes-validate ships (it has v1.25 to v1.37): the newest, and the release of the
# kubectl that renders the overlays here.
KUBERNETES_VERSIONS = ["1.37.0", "1.32.0"]
KUBECTL = shutil.which("kubectl")
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
STACKS = {"wsgi": "deploy/start-wsgi.sh", "asgi": "deploy/start-asgi.sh"}

# They start kubectl and checkov: `make test-fast` leaves them to `make test` and `make check-kubernetes`.
pytestmark = pytest.mark.live

Manifest = dict[str, Any]


@functools.cache
def rendered(overlay: str) -> tuple[Manifest, ...]:
    """`kubectl kustomize` of one overlay, as `kubectl apply -k` would send it."""
    skip_unless(KUBECTL is not None, "kubectl is not installed (it renders the kustomize overlays)")
    result = subprocess.run(
        [KUBECTL or "kubectl", "kustomize", str(KUBERNETES / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return tuple(document for document in yaml.safe_load_all(result.stdout) if document)


def find(overlay: str, kind: str, name: str) -> Manifest:
    (found,) = [m for m in rendered(overlay) if m["kind"] == kind and m["metadata"]["name"] == name]
    return found


def find_generated(overlay: str, kind: str, name: str) -> Manifest:
    """A ConfigMap or Secret from a generator, named `<name>-<hash of its content>`."""
    (found,) = [
        m for m in rendered(overlay) if m["kind"] == kind and m["metadata"]["name"].rsplit("-", 1)[0] == name
    ]
    return found


def container(overlay: str, kind: str, name: str) -> Manifest:
    (found,) = find(overlay, kind, name)["spec"]["template"]["spec"]["containers"]
    return found


def environment(deployed: Manifest) -> dict[str, str | None]:
    return {variable["name"]: variable.get("value") for variable in deployed.get("env", [])}


def compose() -> Manifest:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def script_default(script: str, variable: str) -> int:
    """The default a start script gives a variable: `${GRACEFUL_TIMEOUT:-30}` is 30."""
    (value,) = set(re.findall(rf"\$\{{{variable}:-(\d+)\}}", (ROOT / script).read_text()))
    return int(value)


def seconds(duration: str) -> int:
    match = re.fullmatch(r"(\d+)s", duration)
    assert match, f"not a duration in seconds: {duration!r}"
    return int(match[1])


def test_there_is_a_small_and_a_production_overlay():
    assert {"small", "production"} <= set(OVERLAYS)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kustomize_renders_the_overlay(overlay):
    kinds = {manifest["kind"] for manifest in rendered(overlay)}

    assert kinds >= {
        "Namespace",
        "Deployment",
        "Job",
        "Service",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "NetworkPolicy",
        "ConfigMap",
        "Secret",
    }


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_validates_strictly_against_the_kubernetes_schemas(overlay, version):
    errors = []
    for manifest in rendered(overlay):
        try:
            kubernetes_validate.validate(manifest, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            errors.append(f"{manifest['kind']}/{manifest['metadata']['name']}: {error.message}")

    assert errors == []


def test_checkov_finds_no_failed_check(tmp_path):
    skip_unless(CHECKOV.exists(), "checkov is not installed (make install-dev puts it in .venv-checkov)")
    for overlay in OVERLAYS:
        (tmp_path / f"{overlay}.yaml").write_text(yaml.safe_dump_all(rendered(overlay)))
    result = subprocess.run(
        [
            *(str(CHECKOV), "--directory", str(tmp_path), "--framework", "kubernetes", "--skip-download"),
            *("--output", "json", "--quiet", "--compact"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    reports = json.loads(result.stdout)
    failed = [
        f"{check['check_id']} {check['resource']} ({check['file_path']})"
        for report in (reports if isinstance(reports, list) else [reports])
        for check in report["results"]["failed_checks"]
    ]

    assert failed == []
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_checkov_skip_gives_its_reason(overlay):
    skips = {
        f"{manifest['kind']}/{manifest['metadata']['name']}": value
        for manifest in rendered(overlay)
        for key, value in manifest["metadata"].get("annotations", {}).items()
        if key.startswith("checkov.io/skip")
    }

    assert skips, "no skip at all: this test would check nothing"
    assert {name: value for name, value in skips.items() if not re.fullmatch(r"CKV\w+=\S.{20,}", value)} == {}


# Where the manifests must agree with docker-compose.yml --------------------------------------------


@pytest.mark.parametrize("stack", ["wsgi", "asgi"])
def test_each_stack_runs_the_compose_image_and_start_script(stack):
    service = compose()["services"][stack]
    deployed = container("small", "Deployment", stack)

    assert service["build"] == "."
    assert deployed["image"].rsplit(":", 1)[0] == service["image"]
    assert deployed["command"] == service["command"] == [STACKS[stack]]


@pytest.mark.parametrize("stack", ["wsgi", "asgi"])
def test_each_stack_listens_on_the_compose_port(stack):
    published = compose()["services"][stack]["ports"][0]
    (port,) = container("small", "Deployment", stack)["ports"]
    (service_port,) = find("small", "Service", stack)["spec"]["ports"]

    assert published.endswith(f":{port['containerPort']}")
    assert service_port["port"] == port["containerPort"]
    assert port["containerPort"] == script_default(STACKS[stack], f"{stack.upper()}_PORT")


def test_the_production_overlay_takes_the_image_from_a_registry():
    image = container("production", "Deployment", "wsgi")["image"]

    assert image.rsplit(":", 1)[0].endswith("/" + compose()["services"]["wsgi"]["image"])


def test_the_migration_job_runs_the_compose_migrate_command():
    service = compose()["services"]["migrate"]
    # Compose writes a literal $ as $$.
    compose_command = [part.replace("$$", "$") for part in service["command"]]

    assert container("small", "Job", "migrate")["command"] == compose_command
    assert container("small", "Job", "migrate")["image"] == container("small", "Deployment", "wsgi")["image"]


def test_the_router_renders_the_compose_nginx_template():
    template = (ROOT / "deploy" / "nginx" / "default.conf.template").read_text()
    configmap = find_generated("small", "ConfigMap", "nginx-templates")

    assert configmap["data"] == {"default.conf.template": template}
    mount = {m["mountPath"]: m["name"] for m in container("small", "Deployment", "nginx")["volumeMounts"]}
    assert mount["/etc/nginx/templates"] == "templates"


def test_the_router_runs_the_compose_nginx_image_with_every_template_variable_set():
    service = compose()["services"]["nginx"]
    router = container("small", "Deployment", "nginx")
    template = (ROOT / "deploy" / "nginx" / "default.conf.template").read_text()
    env = environment(router)
    # The image's entrypoint sets NGINX_LOCAL_RESOLVERS (the pod's nameservers) when asked to;
    # Compose names Docker's DNS itself.
    given_by_entrypoint = {"NGINX_LOCAL_RESOLVERS"} if env.get("NGINX_ENTRYPOINT_LOCAL_RESOLVERS") else set()
    variables = set(re.findall(r"\$\{(\w+)\}", template))

    assert router["image"] == service["image"]
    assert variables <= set(env) | given_by_entrypoint
    assert variables <= set(service["environment"])
    assert set(service["environment"]) <= set(env) | given_by_entrypoint


@pytest.mark.parametrize("stack", ["wsgi", "asgi"])
def test_the_router_sends_each_upstream_to_its_stacks_service_port(stack):
    env = environment(container("small", "Deployment", "nginx"))
    compose_upstream = compose()["services"]["nginx"]["environment"][f"{stack.upper()}_UPSTREAM"]
    (service_port,) = find("small", "Service", stack)["spec"]["ports"]

    # nginx's resolver uses no search domains: the full name of the Service, in the pod's namespace.
    service_name = f"{stack}.$(POD_NAMESPACE).svc.cluster.local"
    assert env[f"{stack.upper()}_UPSTREAM"] == f"{service_name}:{service_port['port']}"
    assert compose_upstream == f"{stack}:{service_port['port']}"


@pytest.mark.parametrize("stack", ["wsgi", "asgi"])
def test_liveness_is_the_compose_healthcheck_and_readiness_is_readyz(stack):
    healthcheck = compose()["services"][stack]["healthcheck"]["test"]
    deployed = container("small", "Deployment", stack)

    assert healthcheck[:3] == ["CMD", "python", "deploy/healthcheck.py"]
    assert deployed["livenessProbe"]["httpGet"]["path"] == HEALTH_PATH == "/healthz"
    assert deployed["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert deployed["readinessProbe"]["httpGet"]["path"] == "/readyz"


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("stack", ["wsgi", "asgi"])
def test_the_probes_send_a_host_that_django_allows(overlay, stack):
    allowed = find_generated(overlay, "ConfigMap", "django-config")["data"]["DJANGO_ALLOWED_HOSTS"].split(",")
    deployed = container(overlay, "Deployment", stack)

    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        (header,) = deployed[probe]["httpGet"]["httpHeaders"]
        assert header["name"] == "Host"
        assert header["value"] in allowed


@pytest.mark.parametrize("stack", ["wsgi", "asgi"])
def test_the_grace_period_outlasts_the_pre_stop_pause_and_the_servers_graceful_timeout(stack):
    graceful_timeout = script_default(STACKS[stack], "GRACEFUL_TIMEOUT")
    pod = find("small", "Deployment", stack)["spec"]["template"]["spec"]
    deployed = container("small", "Deployment", stack)
    pause = deployed["lifecycle"]["preStop"]["exec"]["command"]

    # Left to the start script's default, as docker-compose.yml leaves it.
    assert "GRACEFUL_TIMEOUT" not in environment(deployed)
    assert "GRACEFUL_TIMEOUT" not in compose()["services"][stack].get("environment", {})
    assert pause[0] == "sleep"
    assert pod["terminationGracePeriodSeconds"] > int(pause[1]) + graceful_timeout
    assert seconds(compose()["services"][stack]["stop_grace_period"]) > graceful_timeout


def test_the_migration_runs_before_the_stacks_serve_as_compose_orders_it():
    depends_on = compose()["services"]["wsgi"]["depends_on"]

    assert depends_on["migrate"]["condition"] == "service_completed_successfully"
    for stack in ("wsgi", "asgi"):
        (wait,) = find("small", "Deployment", stack)["spec"]["template"]["spec"]["initContainers"]
        assert "python manage.py migrate --check" in " ".join(wait["command"])


def test_wsgi_scales_on_cpu():
    (metric,) = find("production", "HorizontalPodAutoscaler", "wsgi")["spec"]["metrics"]

    assert metric["type"] == "Resource"
    assert metric["resource"]["name"] == "cpu"


def test_asgi_scales_on_the_websocket_gauge_that_the_adapter_rule_serves():
    metrics = find("production", "HorizontalPodAutoscaler", "asgi")["spec"]["metrics"]
    (pods_metric,) = [metric["pods"] for metric in metrics if metric["type"] == "Pods"]
    values = yaml.safe_load((KUBERNETES / "monitoring" / "prometheus-adapter-values.yaml").read_text())
    (rule,) = values["rules"]["custom"]

    assert pods_metric["metric"]["name"] == rule["name"]["as"] == "asgi_websocket_connections"
    assert rule["seriesQuery"].startswith("asgi_websocket_connections{")
    assert set(rule["resources"]["overrides"]) == {"namespace", "pod"}


def test_the_scraper_reads_both_stacks_on_their_http_port_with_the_metrics_token():
    (monitor,) = yaml.safe_load_all((KUBERNETES / "monitoring" / "podmonitor.yaml").read_text())
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    (selector,) = monitor["spec"]["selector"]["matchExpressions"]
    token = find("small", "Secret", "metrics-token")

    assert endpoint["path"] == "/metrics"
    assert endpoint["authorization"]["credentials"] == {"name": "metrics-token", "key": "token"}
    assert set(selector["values"]) == {"wsgi", "asgi"}
    for stack in ("wsgi", "asgi"):
        deployed = container("small", "Deployment", stack)
        assert endpoint["port"] in {port["name"] for port in deployed["ports"]}
        metrics_token = {v["name"]: v for v in deployed["env"]}["METRICS_TOKEN"]["valueFrom"]["secretKeyRef"]
        assert metrics_token == {"name": token["metadata"]["name"], "key": "token"}


@pytest.mark.parametrize("stack", ["wsgi", "asgi"])
def test_only_nginx_and_the_scraper_reach_a_stack_on_its_port(stack):
    policy = find("small", "NetworkPolicy", stack)
    (rule,) = policy["spec"]["ingress"]
    (port,) = container("small", "Deployment", stack)["ports"]

    assert [p["port"] for p in rule["ports"]] == [port["containerPort"]]
    assert rule["from"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "nginx"}}},
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
        },
    ]


def test_every_pod_is_denied_what_no_policy_allows():
    policy = find("small", "NetworkPolicy", "default-deny")

    assert policy["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


@pytest.mark.parametrize(
    ("policy", "reaching"), [("postgresql", {"wsgi", "asgi", "migrate"}), ("redis", {"wsgi", "asgi"})]
)
def test_only_the_stacks_and_the_migration_reach_the_databases(policy, reaching):
    (expression,) = find("small", "NetworkPolicy", policy)["spec"]["podSelector"]["matchExpressions"]

    assert expression["operator"] == "In"
    assert set(expression["values"]) == reaching


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_django_container_writes_tmp_and_the_metrics_directory_to_an_empty_dir(overlay):
    directory = find_generated(overlay, "ConfigMap", "django-config")["data"]["PROMETHEUS_MULTIPROC_DIR"]
    checked = []
    for manifest in rendered(overlay):
        if manifest["kind"] not in {"Deployment", "Job"}:
            continue
        pod = manifest["spec"]["template"]["spec"]
        volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
        for each in pod.get("initContainers", []) + pod["containers"]:
            if not any("django-config" in str(source) for source in each.get("envFrom", [])):
                continue
            mounts = {m["mountPath"]: m["name"] for m in each.get("volumeMounts", [])}
            assert each["securityContext"]["readOnlyRootFilesystem"] is True
            assert "emptyDir" in volumes[mounts[directory]], each["name"]
            assert "emptyDir" in volumes[mounts["/tmp"]], each["name"]
            checked.append(each["name"])

    assert sorted(checked) == ["asgi", "migrate", "wait-for-migrations", "wait-for-migrations", "wsgi"]


def test_the_committed_secrets_are_placeholders():
    secrets = find_generated("small", "Secret", "django-secrets")["data"]
    token = find("small", "Secret", "metrics-token")["stringData"]

    # Empty: with DJANGO_DEBUG=0 the settings refuse to start without a key, so an unfilled Secret
    # stops the release instead of running the site on a key published here.
    assert secrets["DJANGO_SECRET_KEY"] == ""
    assert find_generated("small", "ConfigMap", "django-config")["data"]["DJANGO_DEBUG"] == "0"
    assert token == {"token": ""}


def test_the_production_overlay_reaches_redis_through_sentinel():
    config = find_generated("production", "ConfigMap", "django-config")["data"]
    secrets = find_generated("production", "Secret", "django-secrets")["data"]

    assert all(re.fullmatch(r"[\w.-]+:26379", entry) for entry in config["REDIS_SENTINELS"].split(","))
    # The settings refuse REDIS_URL and REDIS_SENTINELS together; an empty value counts as unset.
    assert secrets["REDIS_URL"] == ""
