// componentize-js turns this into a WASI 0.2 component (StarlingMonkey): `fetch` is its
// wasi:http/outgoing-handler import, which wasmcap serves over the https policy. The header
// value "secret:tok" is a reference the host resolves; the component never sees the secret.
export async function get(url, method, body) {
  try {
    const init = { method, headers: { "x-token": "secret:tok", accept: "application/json" } };
    if (body !== "") init.body = body;
    const response = await fetch(url, init);
    const text = await response.text();
    return response.status + " " + text;
  } catch (e) {
    return "error " + e;
  }
}
