#!/usr/bin/env python3
"""Get a token from the sandbox PSC stand-in without a browser (python3 stdlib only).

For humans and debugging; the Rust tests drive the flows themselves.

usage:
  get_token.py NATIONAL_ID                 code + PKCE (S256) as `pli-desktop`, drives the login
                                           and consent forms, redirect on a loopback port
  get_token.py NATIONAL_ID --ciba [--channel ECPS]   CIBA poll as `pli-ciba`
  get_token.py --refresh REFRESH_TOKEN     refresh (pli-desktop)
  get_token.py --revoke TOKEN              revoke a token (pli-desktop)
  options: --issuer URL (default the sandbox issuer), --verbose (decoded id_token + userinfo on stderr)
Prints the token endpoint's JSON on stdout. Exit 1 with the error JSON on failure.
"""
import argparse
import base64
import hashlib
import http.cookiejar
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

DEFAULT_ISSUER = "http://127.0.0.1:18080/auth/realms/esante-wallet"
DESKTOP = "pli-desktop"
CIBA, CIBA_SECRET = "pli-ciba", "pli-ciba-sandbox-secret"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


def request(opener, url, data=None, auth=None, method=None):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    req = urllib.request.Request(url, data=body, method=method)
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
    try:
        r = opener.open(req, timeout=15)
    except urllib.error.HTTPError as e:  # 3xx (no redirect handler) and 4xx/5xx land here
        r = e
    return r.status if hasattr(r, "status") else r.code, dict(r.headers), r.read().decode("utf-8", "replace")


def discover(opener, issuer):
    st, _, body = request(opener, issuer + "/.well-known/wallet-openid-configuration")
    if st != 200:
        sys.exit(f"discovery failed: HTTP {st} {body[:300]}")
    return json.loads(body)


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def authcode(opener, meta, login):
    verifier = b64url(os.urandom(32))
    challenge = b64url(hashlib.sha256(verifier.encode()).digest())
    redirect = "http://127.0.0.1:53682/callback"  # any port: RFC 8252 loopback; nothing needs to listen
    state, nonce = b64url(os.urandom(12)), b64url(os.urandom(12))
    q = dict(client_id=DESKTOP, response_type="code", redirect_uri=redirect, scope="openid scope_all",
             acr_values="eidas1", code_challenge=challenge, code_challenge_method="S256",
             state=state, nonce=nonce, prompt="login")
    url = meta["authorization_endpoint"] + "?" + urllib.parse.urlencode(q)
    st, hdr, body = request(opener, url)
    for _ in range(20):
        loc = hdr.get("Location") or hdr.get("location") or ""
        if loc.startswith(redirect):
            break
        if st in (302, 303):
            st, hdr, body = request(opener, urllib.parse.urljoin(url, loc))
            continue
        m = re.search(r'action="([^"]+)"', body)
        p = re.search(r'name="prompt" value="(\w+)"', body)
        if not m or not p:
            sys.exit(f"unexpected page HTTP {st}: {body[-800:]}")
        err = re.search(r'class="err">([^<]*)<', body)
        if err:
            sys.exit(f"login refused: {err.group(1)}")
        st, hdr, body = request(opener, urllib.parse.urljoin(url, m.group(1)),
                                data=dict(prompt=p.group(1), login=login, password="x"))
    else:
        sys.exit("too many redirects")
    qs = urllib.parse.parse_qs(urllib.parse.urlparse(loc).query)
    if "error" in qs:
        sys.exit(json.dumps({k: v[0] for k, v in qs.items()}))
    assert qs["state"][0] == state, "state mismatch"
    st, _, body = request(opener, meta["token_endpoint"], data=dict(
        grant_type="authorization_code", code=qs["code"][0], redirect_uri=redirect,
        client_id=DESKTOP, code_verifier=verifier))
    return st, json.loads(body)


def ciba(opener, meta, login, channel):
    data = dict(scope="openid scope_all", login_hint=login, binding_message="PLI-1", acr_values="eidas1")
    if channel:
        data["channel"] = channel
    st, _, body = request(opener, meta["backchannel_authentication_endpoint"], data=data, auth=(CIBA, CIBA_SECRET))
    a = json.loads(body)
    print("ciba start:", json.dumps(a), file=sys.stderr)
    if st != 200:
        return st, a
    deadline = time.time() + a.get("expires_in", 120)
    while time.time() < deadline:
        time.sleep(a.get("interval", 1) if a.get("interval", 1) < 2 else 1)
        st, _, body = request(opener, meta["token_endpoint"], auth=(CIBA, CIBA_SECRET), data=dict(
            grant_type="urn:openid:params:grant-type:ciba", auth_req_id=a["auth_req_id"]))
        t = json.loads(body)
        if t.get("error") not in ("authorization_pending", "slow_down"):
            return st, t
    return 408, {"error": "timeout"}


def jwt_payload(tok):
    part = tok.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("login", nargs="?", default="810100000001", help="national id (default: Anne, 810100000001)")
    ap.add_argument("--ciba", action="store_true")
    ap.add_argument("--channel")
    ap.add_argument("--refresh")
    ap.add_argument("--revoke")
    ap.add_argument("--issuer", default=os.environ.get("PSC_ISSUER", DEFAULT_ISSUER))
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args()
    opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    meta = discover(opener, args.issuer.rstrip("/"))
    if args.revoke:
        st, _, body = request(opener, meta["revocation_endpoint"], data=dict(token=args.revoke, client_id=DESKTOP))
        print(json.dumps({"revoked": st == 200, "status": st}))
        return 0 if st == 200 else 1
    if args.refresh:
        st, _, body = request(opener, meta["token_endpoint"], data=dict(
            grant_type="refresh_token", refresh_token=args.refresh, client_id=DESKTOP))
        tok = json.loads(body)
    elif args.ciba:
        st, tok = ciba(opener, meta, args.login, args.channel)
    else:
        st, tok = authcode(opener, meta, args.login)
    print(json.dumps(tok))
    if "access_token" not in tok:
        return 1
    if args.verbose:
        if "id_token" in tok:
            print("id_token:", json.dumps(jwt_payload(tok["id_token"]), ensure_ascii=False), file=sys.stderr)
        req = urllib.request.Request(meta["userinfo_endpoint"],
                                     headers={"Authorization": "Bearer " + tok["access_token"]})
        with urllib.request.urlopen(req, timeout=10) as r:
            print("userinfo:", r.read().decode(), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
