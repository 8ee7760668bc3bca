"""The deployment files, validated offline: compose against the Compose Specification's
schema (vendored by check-jsonschema), manifests against Kubernetes' OpenAPI schemas
(vendored by kubernetes-validate), plus the rules the README promises."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
MANIFESTS = sorted((DEPLOY / "k8s").glob("*.yaml"))


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


def k8s_documents() -> list[tuple[str, dict[str, Any]]]:
    documents = []
    for path in MANIFESTS:
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") != "Kustomization":
                documents.append((f"{path.name}:{doc['kind']}/{doc['metadata']['name']}", doc))
    return documents


def test_the_compose_file_follows_the_compose_specification() -> None:
    schema_file = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(compose())]
    assert errors == []


def test_the_compose_schema_check_catches_a_mistake() -> None:
    schema_file = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text())
    broken = compose()
    broken["services"]["api"]["restart_policy"] = "always"  # not a service key
    assert not jsonschema.validators.validator_for(schema)(schema).is_valid(broken)


@pytest.mark.parametrize(
    ("name", "doc"), k8s_documents(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_manifest_is_a_valid_kubernetes_resource(name: str, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)


def test_the_manifest_check_catches_a_mistake() -> None:
    (_, api) = next((n, d) for n, d in k8s_documents() if n.startswith("api.yaml:Deployment"))
    api["spec"]["template"]["spec"]["containers"][0]["readinessprobe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(api, kubernetes_validate.latest_version(), strict=True)


def deployments() -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for _, d in k8s_documents() if d["kind"] == "Deployment"}


def test_api_worker_and_beat_are_probed_on_healthz_and_beat_stays_single() -> None:
    found = deployments()
    for name in ("teddy-api", "teddy-worker", "teddy-beat"):
        (container,) = found[name]["spec"]["template"]["spec"]["containers"]
        # The API takes traffic once its embedding model has loaded (/readyz).
        ready = "/readyz" if name == "teddy-api" else "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == ready
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    beat = found["teddy-beat"]["spec"]
    assert beat["replicas"] == 1 and beat["strategy"]["type"] == "Recreate"
    scaled = {
        d["spec"]["scaleTargetRef"]["name"]
        for _, d in k8s_documents()
        if d["kind"] == "HorizontalPodAutoscaler"
    }
    assert scaled == {"teddy-api", "teddy-worker"}
    assert compose()["services"]["beat"]["deploy"]["replicas"] == 1


def test_the_worker_grace_period_outlasts_its_shutdown_grace() -> None:
    worker = deployments()["teddy-worker"]["spec"]["template"]["spec"]
    config = next(d for _, d in k8s_documents() if d["kind"] == "ConfigMap")
    assert worker["terminationGracePeriodSeconds"] > float(config["data"]["WORKER_SHUTDOWN_GRACE"])


def test_migrations_run_as_a_job_and_the_secret_is_only_a_template() -> None:
    kinds = {name: doc["kind"] for name, doc in k8s_documents()}
    assert kinds["migrate-job.yaml:Job/teddy-migrate"] == "Job"
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    assert "secret.example.yaml" not in kustomization["resources"]
    # The migrations Job is applied before a rollout, not with every `kubectl apply -k`.
    assert "migrate-job.yaml" not in kustomization["resources"]


def test_every_process_runs_as_a_non_root_user() -> None:
    for _, doc in k8s_documents():
        template = doc.get("spec", {}).get("template")
        if template is not None:
            assert template["spec"]["securityContext"]["runAsNonRoot"] is True
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, re.M)) >= 2  # multi-stage
    users = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")


def test_nginx_terminates_tls_limits_rates_and_passes_websockets() -> None:
    conf = (DEPLOY / "nginx" / "nginx.conf").read_text()
    for needle in (
        "listen 443 ssl",
        "ssl_certificate ",
        "limit_req_zone",
        "limit_req zone=",
        "proxy_set_header Upgrade",
        "proxy_buffering off",
    ):
        assert needle in conf
    assert compose()["services"]["db"]["image"].startswith("pgvector/pgvector:")


def test_nginx_keeps_upstream_connections_and_closes_idle_ones_before_uvicorn() -> None:
    from teddy.http_server import KEEP_ALIVE_SECONDS

    conf = (DEPLOY / "nginx" / "nginx.conf").read_text()
    # Ordinary requests do not send "Connection: close" upstream (that defeats keepalive).
    mapping = re.search(r"map \$http_upgrade \$connection_upgrade \{(.*?)\}", conf, re.S)
    assert mapping is not None and re.search(r'""\s+"";', mapping.group(1))
    idle = re.search(r"upstream api \{[^}]*keepalive_timeout (\d+)s;", conf)
    assert idle is not None and int(idle.group(1)) < KEEP_ALIVE_SECONDS


def test_compose_runs_only_commands_the_cli_has_or_bot_commands() -> None:
    from teddy.cli import main

    bots = {"api", "telegram", "discord", "slack"}
    for name, service in compose()["services"].items():
        command = service.get("command")
        if service.get("build") and command:
            assert command[0] in set(main.commands) | bots, name


def test_webhooks_reach_the_processes_that_serve_them() -> None:
    """/telegram/ and /slack/ go to `teddy telegram --webhook` and `teddy slack --http`, in
    compose (nginx) and in the cluster (ingress), each listening on the port it is sent to."""
    services = compose()["services"]
    conf = (DEPLOY / "nginx" / "nginx.conf").read_text()
    for path, service, command in (
        ("/telegram/", "telegram-webhook", ["telegram", "--webhook"]),
        ("/slack/", "slack-http", ["slack", "--http"]),
    ):
        argv = services[service]["command"]
        assert argv[:2] == command and "0.0.0.0" in argv
        port = argv[argv.index("--port") + 1]
        block = re.search(rf"location {path} \{{(.*?)\}}", conf, re.S)
        assert block is not None and f"http://{service}:{port}" in block.group(1)

    docs = {name.split(":")[1]: doc for name, doc in k8s_documents()}
    ingress_paths = {
        p["path"]: p["backend"]["service"]["name"]
        for rule in docs["Ingress/teddy"]["spec"]["rules"]
        for p in rule["http"]["paths"]
    }
    for path, name, command in (
        ("/telegram/", "teddy-telegram", ["telegram", "--webhook"]),
        ("/slack/", "teddy-slack", ["slack", "--http"]),
    ):
        assert ingress_paths[path] == name
        container = docs[f"Deployment/{name}"]["spec"]["template"]["spec"]["containers"][0]
        assert container["args"][:2] == command
        port = int(container["args"][container["args"].index("--port") + 1])
        assert container["ports"][0]["containerPort"] == port
        assert docs[f"Service/{name}"]["spec"]["ports"][0]["port"] == port


def test_kustomization_applies_one_mode_per_platform() -> None:
    listed = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())["resources"]
    alternatives = {"telegram-polling.yaml": "telegram.yaml", "slack-socket.yaml": "slack.yaml"}
    for alternative, default in alternatives.items():
        assert (DEPLOY / "k8s" / alternative).exists()
        assert alternative not in listed and default in listed
    others = (
        {p.name for p in MANIFESTS}
        - set(alternatives)
        - {
            "kustomization.yaml",
            "secret.example.yaml",
            "migrate-job.yaml",
        }
    )
    assert others <= set(listed)


def test_the_api_believes_forwarded_headers_from_its_proxy_only() -> None:
    """Behind nginx every request comes from nginx: the API must take the client address and
    scheme from nginx's headers (per-client sign-in limits, Secure cookies), and from no one
    else's."""
    services = compose()["services"]
    nginx_address = services["nginx"]["networks"]["default"]["ipv4_address"]
    assert services["api"]["environment"]["FORWARDED_ALLOW_IPS"] == nginx_address
    conf = (DEPLOY / "nginx" / "nginx.conf").read_text()
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in conf
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in conf
    config = yaml.safe_load((DEPLOY / "k8s" / "configmap.yaml").read_text())
    assert config["data"]["FORWARDED_ALLOW_IPS"] not in ("", "*")
