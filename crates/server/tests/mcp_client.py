"""Drives `fluxion mcp` (stdio) with the official Python MCP SDK (`mcp` on PyPI).

Usage: python mcp_client.py FLUXION_BIN [DB_PATH]

Starts `FLUXION_BIN mcp --db DB_PATH --now 2027-03-10T10:00:00` (a fresh
temporary database when DB_PATH is omitted), then: initialize, list tools and
resources, read fluxion://servizi, call get_disponibilita and
create_appuntamento (Piega, "giovedì alle 10", Ada Lovelace, +393471234567,
confermato=true), check that an unknown tool is a tool error and an unknown
resource a protocol error. Prints each step; exits non-zero on any failure.
Works with mcp 1.x (camelCase attributes) and 2.x (snake_case).
"""

import asyncio
import json
import os
import sys
import tempfile

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

NOW = "2027-03-10T10:00:00"
SEED_TOOLS = {"search_clienti", "create_appuntamento", "get_disponibilita", "get_faq"}
RESOURCES = {"fluxion://clienti", "fluxion://servizi", "fluxion://faq"}


def field(obj, snake, camel):
    """An attribute under its 2.x (snake_case) or 1.x (camelCase) name."""
    if hasattr(obj, snake):
        return getattr(obj, snake)
    return getattr(obj, camel)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def tool_json(result):
    """The JSON object a Fluxion tool answered (its text content)."""
    texts = [c.text for c in result.content if getattr(c, "type", None) == "text"]
    check(texts, f"tool result without text content: {result}")
    return json.loads(texts[0])


async def call(session, name, arguments):
    result = await session.call_tool(name, arguments)
    body = tool_json(result)
    is_error = bool(field(result, "is_error", "isError"))
    print(f"tools/call {name} {json.dumps(arguments, ensure_ascii=False)}")
    print(f"  -> is_error={is_error} {json.dumps(body, ensure_ascii=False)}")
    return is_error, body


async def run(binary, db):
    params = StdioServerParameters(command=binary, args=["mcp", "--db", db, "--now", NOW], env={"RUST_LOG": "warn"})
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            server = field(init, "server_info", "serverInfo")
            version = field(init, "protocol_version", "protocolVersion")
            print(f"initialize: server {server.name} {server.version}, protocol {version}")
            check(server.name == "fluxion", f"server name {server.name!r}")

            tools = (await session.list_tools()).tools
            names = {t.name for t in tools}
            print(f"tools/list: {sorted(names)}")
            check(len(tools) == 11, f"expected 11 tools, got {len(tools)}")
            check(SEED_TOOLS <= names, f"missing seed tools: {SEED_TOOLS - names}")
            for t in tools:
                schema = field(t, "input_schema", "inputSchema")
                check(schema.get("type") == "object", f"{t.name}: input schema is not an object")

            resources = (await session.list_resources()).resources
            uris = {str(r.uri) for r in resources}
            print(f"resources/list: {sorted(uris)}")
            check(uris == RESOURCES, f"resources {uris}")

            read = await session.read_resource("fluxion://servizi")
            content = read.contents[0]
            check(field(content, "mime_type", "mimeType") == "application/json", "servizi: mime type")
            services = json.loads(content.text)["services"]
            piega = next((s for s in services if s["name"] == "Piega"), None)
            print(f"resources/read fluxion://servizi: {len(services)} services, Piega = {piega}")
            check(piega is not None, "Piega not among the services")
            check(piega["duration_min"] > 0 and piega["price_cents"] > 0 and piega["operators"], "Piega fields")

            is_error, body = await call(session, "get_disponibilita", {"servizio": "Piega", "quando": "giovedì alle 10"})
            check(not is_error, "get_disponibilita failed")
            check(body["orari"], "no free slots for Piega on Thursday")
            check(body["orari"][0]["inizio"].startswith("2027-03-11"), f"first slot {body['orari'][0]}")

            is_error, body = await call(
                session,
                "create_appuntamento",
                {
                    "servizio": "Piega",
                    "quando": "giovedì alle 10",
                    "nome": "Ada Lovelace",
                    "telefono": "+393471234567",
                    "confermato": True,
                },
            )
            check(not is_error, "create_appuntamento failed")
            check(body.get("ok") is True, "create_appuntamento: ok is not true")
            appointment = body["appuntamento"]
            check(appointment["inizio"].startswith("2027-03-11T10:00"), f"booked {appointment}")

            is_error, body = await call(session, "search_clienti", {"query": "Lovelace"})
            check(not is_error and "Ada Lovelace" in json.dumps(body, ensure_ascii=False), "new client not found")

            is_error, body = await call(session, "no_such_tool", {})
            check(is_error and body.get("errore") == "tool_sconosciuto", "unknown tool must be a tool error")

            try:
                await session.read_resource("fluxion://nope")
            except Exception as e:  # McpError in 1.x, MCPError in 2.x
                print(f"resources/read fluxion://nope -> error {type(e).__name__}: {e}")
            else:
                raise AssertionError("reading an unknown resource must fail")

            print(f"OK: booked appointment {appointment['id']} for Ada Lovelace at {appointment['inizio']}")


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        db = sys.argv[2] if len(sys.argv) == 3 else os.path.join(tmp, "fluxion.db")
        try:
            asyncio.run(run(binary, db))
        except BaseException as e:  # noqa: BLE001 - report anything, including task-group errors
            print(f"FAILED: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
