"""Authentication at the gateway (ADR 13).

- ``tables``: the gateway database (signing keys, OAuth clients, API keys);
- ``keys``: Ed25519 signing keys, their rotation, the JWKS;
- ``tokens``: issuing and verifying our access tokens;
- ``clients``, ``oauth``: registered clients and ``POST /oauth/token``;
- ``apikeys``: API keys for student portals;
- ``external``: tokens of an external identity provider, by its JWKS;
- ``authenticator``: a bearer credential → a principal, per request;
- ``hashing``, ``grants``: secret hashes; what a credential grants.

Nothing is imported here, so that ``vfu`` (which needs only the stores) starts quickly.
"""
