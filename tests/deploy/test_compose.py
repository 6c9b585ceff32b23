"""Checks of docker-compose.yml, the Dockerfiles and deploy/ without a Docker engine.

Dev machines and CI have no engine, so the stack is never started here: these tests hold the
compose file to the Compose Specification (vendored schema) and to what the code reads.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml
from agreements.settings import Settings as AgreementsSettings
from gateway.settings import Settings as GatewaySettings
from placements.settings import Settings as PlacementsSettings
from pydantic_settings import BaseSettings
from supervisors.settings import Settings as SupervisorsSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
SCHEMA_FILE = Path(__file__).with_name("compose-spec.json")
INIT_SQL = ROOT / "deploy" / "postgres" / "init.sql"

SERVICES = ("agreements", "placements", "supervisors")
GATEWAY = "gateway"
DEPLOYABLES = (*SERVICES, GATEWAY)
INFRASTRUCTURE = frozenset({"postgres", "nats", "keygen"})
SETTINGS: dict[str, type[BaseSettings]] = {
    "agreements": AgreementsSettings,
    "placements": PlacementsSettings,
    "supervisors": SupervisorsSettings,
    "gateway": GatewaySettings,
}
DOCKERFILES = {
    "agreements": "services/agreements/Dockerfile",
    "placements": "services/placements/Dockerfile",
    "supervisors": "services/supervisors/Dockerfile",
    "gateway": "gateway/Dockerfile",
}
CREATE_DATABASE = re.compile(
    r"CREATE\s+DATABASE\s+(\w+)(?:\s+(?:WITH\s+)?OWNER\s*=?\s*(\w+))?", re.IGNORECASE
)
REQUIRED_SERVICE_VARS = ("DATABASE_URL", "NATS_URL", "INTERNAL_PUBLIC_KEY_FILE")
REQUIRED_GATEWAY_VARS = (
    "AGREEMENTS_URL",
    "PLACEMENTS_URL",
    "SUPERVISORS_URL",
    "INTERNAL_PRIVATE_KEY_FILE",
    "DATABASE_URL",
)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(document, dict), "docker-compose.yml is not a mapping"
    return document


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SCHEMA_FILE.read_text())
    return document


def validator(schema: dict[str, Any]) -> jsonschema.Draft7Validator:
    assert "draft-07" in schema["$schema"], f"schema declares {schema['$schema']}, not draft-07"
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)  # no format_checker: format checking is off


def schema_errors(schema: dict[str, Any], document: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in validator(schema).iter_errors(document)
    ]


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping, whichever of the two compose forms it uses."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {name: "" if value is None else str(value) for name, value in env.items()}


def env_prefix(settings: type[BaseSettings]) -> str:
    return str(settings.model_config.get("env_prefix", ""))


def variables_read_by(settings: type[BaseSettings]) -> set[str]:
    prefix = env_prefix(settings)
    return {prefix + name.upper() for name in settings.model_fields}


def command_of(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    assert isinstance(command, list), "use the exec (list) form for command"
    return [str(part) for part in command]


def module_of(command: list[str]) -> str:
    assert command[:2] == ["python", "-m"], f"not a `python -m` command: {command}"
    return command[2]


def option(command: list[str], name: str) -> str:
    assert name in command, f"{name} missing from {command}"
    return command[command.index(name) + 1]


def created_databases() -> dict[str, str]:
    """Database name -> owner, from the CREATE DATABASE statements of init.sql."""
    sql = re.sub(r"--[^\n]*", "", INIT_SQL.read_text())
    return dict(CREATE_DATABASE.findall(sql))


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, comments dropped and continuation lines joined."""
    text = re.sub(r"\\\n", " ", path.read_text())
    pairs = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            instruction, _, arguments = stripped.partition(" ")
            pairs.append((instruction.upper(), arguments.strip()))
    return pairs


# (a) the Compose Specification


def test_compose_file_validates_against_the_compose_specification(
    compose: dict[str, Any], schema: dict[str, Any]
) -> None:
    assert schema_errors(schema, compose) == []


def test_vendored_schema_rejects_what_compose_rejects(
    compose: dict[str, Any], schema: dict[str, Any]
) -> None:
    """The schema is strict enough for the test above to mean something."""
    broken = copy.deepcopy(compose)
    broken["services"][GATEWAY]["environmnet"] = {"GATEWAY_LOG_LEVEL": "INFO"}  # a typo'd key
    broken["services"]["agreements"]["depends_on"]["postgres"]["condition"] = "service_ready"
    errors = schema_errors(schema, broken)
    assert any(error.startswith("services/gateway") for error in errors), errors
    assert any(error.startswith("services/agreements/depends_on") for error in errors), errors


# (b) the set of services


def test_services_are_the_application_and_its_infrastructure(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == set(DEPLOYABLES) | INFRASTRUCTURE


def test_only_the_gateway_publishes_a_port(compose: dict[str, Any]) -> None:
    publishing = {name for name, service in compose["services"].items() if service.get("ports")}
    assert publishing == {GATEWAY}
    assert compose["services"][GATEWAY]["ports"] == ["8000:8000"]


# (c) environment variables are the ones the code reads


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_every_environment_variable_is_a_settings_field(compose: dict[str, Any], name: str) -> None:
    env = environment(compose["services"][name])
    unknown = set(env) - variables_read_by(SETTINGS[name])
    assert not unknown, f"{name} sets variables its Settings never reads: {sorted(unknown)}"


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_required_environment_variables_are_set(compose: dict[str, Any], name: str) -> None:
    settings = SETTINGS[name]
    required = REQUIRED_GATEWAY_VARS if name == GATEWAY else REQUIRED_SERVICE_VARS
    expected = {env_prefix(settings) + suffix for suffix in required}
    assert expected <= variables_read_by(settings), "the test's list of required names is stale"
    env = environment(compose["services"][name])
    missing = {variable for variable in expected if not env.get(variable)}
    assert not missing, f"{name} lacks {sorted(missing)}"


def test_no_credentials_are_configured_in_the_compose_file(compose: dict[str, Any]) -> None:
    """Callers are registered in the gateway's store with `vfu`, never in configuration."""
    env = environment(compose["services"][GATEWAY])
    assert not [name for name in env if "API_KEY" in name or "SECRET" in name]
    assert "vfu clients create" in COMPOSE_FILE.read_text()


# (d) the wiring between containers


def test_gateway_upstreams_are_the_services_on_their_command_ports(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    env = environment(services[GATEWAY])
    for name in SERVICES:
        url = urlsplit(env[f"GATEWAY_{name.upper()}_URL"])
        assert url.scheme == "http"
        assert url.hostname == name, f"the {name} upstream points at {url.hostname}"
        assert url.hostname in services
        assert str(url.port) == option(command_of(services[name]), "--port")
        assert option(command_of(services[name]), "--host") == "0.0.0.0"


@pytest.mark.parametrize("name", SERVICES)
def test_nats_url_is_the_nats_service(compose: dict[str, Any], name: str) -> None:
    env = environment(compose["services"][name])
    url = urlsplit(env[f"{name.upper()}_NATS_URL"])
    assert url.scheme == "nats"
    assert url.hostname == "nats"
    assert url.hostname in compose["services"]
    assert url.port == 4222


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_database_url_is_a_database_created_by_init_sql(compose: dict[str, Any], name: str) -> None:
    postgres = environment(compose["services"]["postgres"])
    url = urlsplit(environment(compose["services"][name])[f"{name.upper()}_DATABASE_URL"])
    database = url.path.lstrip("/")
    databases = created_databases()
    assert url.scheme == "postgresql+asyncpg"
    assert url.hostname == "postgres"
    assert url.port == 5432
    assert database == name, "one database per service (and the gateway), named after it"
    assert database in databases, f"init.sql creates {sorted(databases)}, not {database}"
    assert url.username == postgres["POSTGRES_USER"]
    assert url.password == postgres["POSTGRES_PASSWORD"]
    assert databases[database] == postgres["POSTGRES_USER"], "owned by the compose user"


def test_init_sql_is_mounted_into_the_postgres_entrypoint(compose: dict[str, Any]) -> None:
    volumes = compose["services"]["postgres"]["volumes"]
    assert "./deploy/postgres/init.sql:/docker-entrypoint-initdb.d/init.sql:ro" in volumes


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_start_order_and_keys(compose: dict[str, Any], name: str) -> None:
    services = compose["services"]
    service = services[name]
    if name == GATEWAY:
        # The services, and PostgreSQL for the gateway's own store.
        expected = {other: "service_healthy" for other in (*SERVICES, "postgres")}
        key_file = environment(service)["GATEWAY_INTERNAL_PRIVATE_KEY_FILE"]
    else:
        expected = {"postgres": "service_healthy", "nats": "service_healthy"}
        key_file = environment(service)[f"{name.upper()}_INTERNAL_PUBLIC_KEY_FILE"]
    expected["keygen"] = "service_completed_successfully"
    conditions = {other: dep["condition"] for other, dep in service["depends_on"].items()}
    assert conditions == expected
    for other, condition in conditions.items():
        if condition == "service_healthy":
            assert services[other].get("healthcheck"), f"{other} needs a healthcheck"
    assert "keys:/keys:ro" in service["volumes"]
    assert key_file.startswith("/keys/")
    assert "keys" in compose["volumes"]


def test_keygen_writes_the_keys_volume_with_the_gateway_image(compose: dict[str, Any]) -> None:
    keygen = compose["services"]["keygen"]
    assert module_of(command_of(keygen)) == "vfu_common.internal_token"
    assert command_of(keygen)[3:] == ["/keys"]
    assert keygen["build"] == compose["services"][GATEWAY]["build"]
    assert "keys:/keys" in keygen["volumes"]


# (e) images


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_dockerfile_is_multi_stage_and_runs_as_non_root(compose: dict[str, Any], name: str) -> None:
    build = compose["services"][name]["build"]
    assert build["context"] == "."
    assert build["dockerfile"] == DOCKERFILES[name]
    dockerfile = ROOT / build["dockerfile"]
    assert dockerfile.is_file()
    instructions = dockerfile_instructions(dockerfile)
    froms = [arguments for instruction, arguments in instructions if instruction == "FROM"]
    users = [arguments for instruction, arguments in instructions if instruction == "USER"]
    assert len(froms) >= 2, f"{dockerfile} is not multi-stage"
    assert users, f"{dockerfile} has no USER"
    user = users[-1].split(":", 1)[0]
    assert user not in {"root", "0"}, f"{dockerfile} runs as {user}"
    syncs = [arguments for instruction, arguments in instructions if "uv sync" in arguments]
    assert any(f"--package vfu-{name}" in sync for sync in syncs), "installs another package"


@pytest.mark.parametrize("name", DEPLOYABLES)
def test_command_runs_the_service_module(compose: dict[str, Any], name: str) -> None:
    command = command_of(compose["services"][name])
    assert module_of(command) == name
    assert "--migrate" in command, "every deployable migrates its database on start"
