#!/usr/bin/env python3
"""Loopback TLS terminator in front of a plain-HTTP upstream (moto), with a
self-signed CA it makes itself: for "https endpoint refused without
AWS_CA_BUNDLE, served with it".

Usage:
  tls_proxy.py --upstream 127.0.0.1:PORT --cert-dir DIR
               [--san 127.0.0.1,localhost,::1] [--host 127.0.0.1] [--port 0]
               [--ready-file PATH] [--log PATH] [--exit-with-parent] [--max-seconds S]

At start it generates (with `cryptography`, EC P-256, valid one day) into DIR:
  ca.pem       the CA certificate: the bundle to give as AWS_CA_BUNDLE / curl --cacert
  server.pem   the server certificate (signed by that CA) followed by the CA
  server.key   its private key (0600)
The server certificate's subjectAltNames are --san (IP addresses and DNS names;
default 127.0.0.1, localhost, ::1).  Give a name that is not the one the client
dials (--san wrong.example) to test that host name verification is on.

Then it accepts TLS (1.2+) connections and relays the decrypted bytes, unchanged,
to --upstream over plain TCP, one upstream connection per client connection (a
thread each, at most 64 at once): keep-alive works as far as the upstream keeps
the connection open (moto_server.py answers HTTP/1.0 and closes after each
answer).  Nothing is parsed or rewritten.  The upstream must be a loopback address.

SigV4 and the Host header: the client signs Host: 127.0.0.1:<this port>, the
relay passes it unchanged, and moto verifies the signature over the headers it
received (it never substitutes its own address), so signed requests through the
proxy verify (measured with boto3 ListTables/PutItem/GetItem, verify=ca.pem).

Log (--log): one JSON line per connection: {"event":"conn","peer",...,
"tls":"ok"|"failed","error": the handshake error (e.g. the client's "unknown ca"
alert when it does not trust ca.pem),"up","down" byte counts}.

How an e2e test uses it:
  start_fake tls tls_proxy.py --upstream "127.0.0.1:$MOTO_PORT" --cert-dir "$E2E_TMP/tls"
  AWS_ENDPOINT_URL_DYNAMODB=https://127.0.0.1:$FAKE_PORT without AWS_CA_BUNDLE: the
  service must refuse (503, a clear log line; the proxy log shows tls "failed");
  with AWS_CA_BUNDLE=$E2E_TMP/tls/ca.pem: CRUD works (tls "ok" lines).
"""

import argparse
import datetime
import ipaddress
import os
import socket
import ssl
import sys

import fakeutil


def make_certs(cert_dir, sans):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    os.makedirs(cert_dir, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "usersvc test CA (tls_proxy.py)")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(start).not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))

    alt = []
    for s in sans:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(s)))
        except ValueError:
            alt.append(x509.DNSName(s))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, sans[0])]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))

    pem = serialization.Encoding.PEM
    ca_pem = ca.public_bytes(pem).decode()
    fakeutil.write_atomic(os.path.join(cert_dir, "ca.pem"), ca_pem)
    fakeutil.write_atomic(os.path.join(cert_dir, "server.pem"), cert.public_bytes(pem).decode() + ca_pem)
    fakeutil.write_atomic(os.path.join(cert_dir, "server.key"),
                          key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()).decode(), 0o600)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    fakeutil.add_common_args(p)
    p.add_argument("--upstream", required=True, help="HOST:PORT of the plain-HTTP server (loopback)")
    p.add_argument("--cert-dir", required=True, help="where ca.pem, server.pem, server.key go")
    p.add_argument("--san", default="127.0.0.1,localhost,::1",
                   help="comma-separated subjectAltNames of the server certificate")
    args = p.parse_args(argv)
    fakeutil.check_loopback(p, args.host)
    up_host, _, up_port = args.upstream.rpartition(":")
    up_host = up_host.strip("[]")
    if not up_port.isdigit() or not fakeutil.is_loopback(up_host):
        p.error("--upstream must be LOOPBACK_IP:PORT")
    sans = [s.strip() for s in args.san.split(",") if s.strip()]
    if not sans:
        p.error("--san needs at least one name")

    log = fakeutil.JsonLog("tls_proxy", args.log)
    fakeutil.install_process_guards(args, log)
    make_certs(args.cert_dir, sans)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(os.path.join(args.cert_dir, "server.pem"), os.path.join(args.cert_dir, "server.key"))

    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    lsock = socket.socket(family, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((args.host, args.port))
    lsock.listen(128)
    def serve(raw, peer):
        fields = {"event": "conn", "peer": f"{peer[0]}:{peer[1]}"}
        up = tls = None
        try:
            raw.settimeout(10)
            try:
                tls = ctx.wrap_socket(raw, server_side=True)
            except (ssl.SSLError, OSError) as e:
                fields.update(tls="failed", error=getattr(e, "reason", None) or str(e))
                return
            fields["tls"] = "ok"
            fields["version"] = tls.version()
            try:
                up = socket.create_connection((up_host, int(up_port)), timeout=10)
            except OSError as e:
                fields["error"] = f"upstream: {e}"
                return
            fields["up"], fields["down"] = fakeutil.relay(tls, up)
        finally:
            for s in (up, tls or raw):
                if s is not None:
                    try:
                        s.close()
                    except OSError:
                        pass
            log.event(**fields)

    fakeutil.announce_ready(args, lsock.getsockname()[1], log,
                            f"TLS -> {args.upstream}, CA {os.path.join(args.cert_dir, 'ca.pem')};")
    fakeutil.serve_connections(lsock, serve)
    return 0


if __name__ == "__main__":
    sys.exit(main())
