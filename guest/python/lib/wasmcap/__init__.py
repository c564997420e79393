"""wasmcap host APIs for Python plugins running under wasmcap.

    import wasmcap
    r = wasmcap.https.request("GET", "https://api.example.com/v1/items",
                              headers={"Authorization": "secret:api_token"})
    r.status, r.headers, r.body, r.json()

Every request is checked by the host against the operator's grants; a refused or failed request
raises wasmcap.https.HTTPSError (with .code, one of the ABI's error codes). See
guest/python/README.md and docs/abi-https.md.
"""
from . import https

__all__ = ["https"]
