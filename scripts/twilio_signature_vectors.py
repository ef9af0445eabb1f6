#!/usr/bin/env python3
"""Twilio request-signature vectors computed with the official twilio-python
library's RequestValidator, for crates/server/tests/fixtures/twilio_signatures.json.

    python3 -m venv /tmp/tw && /tmp/tw/bin/pip install twilio
    /tmp/tw/bin/python scripts/twilio_signature_vectors.py > crates/server/tests/fixtures/twilio_signatures.json

Each vector: the auth token, the URL Twilio requested (the WebSocket upgrade
is a GET of the wss:// URL with no parameters), the POST parameters, and the
X-Twilio-Signature value RequestValidator.compute_signature gives; `valid`
says RequestValidator.validate accepts it. The integration test serves
PUBLIC_URL=https://fluxion.example.it with this auth token and replays the
webhook and the upgrade with these signatures.
"""
import json
import twilio
from twilio.request_validator import RequestValidator

TOKEN = "fixture-auth-token-0123456789abcdef"
BASE = "https://fluxion.example.it"
CALL = {
    "CallSid": "CAfixture000000000000000000000001",
    "From": "+393401234567",
    "To": "+390212345678",
    "CallStatus": "ringing",
    "Direction": "inbound",
}

vectors = []
validator = RequestValidator(TOKEN)
for name, url, params in [
    ("voice webhook", BASE + "/twilio/voice", CALL),
    ("voice webhook, seeds' path", BASE + "/webhooks/twilio/voice", CALL),
    ("media-stream upgrade", "wss://fluxion.example.it/twilio/media", {}),
]:
    signature = validator.compute_signature(url, params)
    vectors.append({
        "name": name,
        "auth_token": TOKEN,
        "url": url,
        "params": params,
        "signature": signature,
        "valid": validator.validate(url, params, signature),
    })

print(json.dumps({"generator": "twilio-python " + twilio.__version__ + " RequestValidator", "vectors": vectors}, indent=2))
